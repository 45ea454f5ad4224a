"""``qualcode pseudonymise``: identifiers in stored text replaced by stable pseudonyms.

What is replaced: the names in a names file (``name`` or ``name,pseudonym`` per line; names
without a pseudonym become ``[PERSON-1]``, ``[PERSON-2]``...), e-mail addresses, UK phone
numbers and UK postcodes found by rules (``[EMAIL-1]``, ``[PHONE-1]``, ``[POSTCODE-1]``), and,
with ``--spacy-model`` naming an installed trained pipeline, the PERSON entities it finds.
The same identifier always gets the same pseudonym, across documents.

Every offset moves with the text: segments, coding spans, the evidence of machine codings;
topic models fitted on the old text are dropped (their keywords and labels may hold names),
and files qualcode wrote with the old text are deleted, as a withdrawal does. The project file
is vacuumed so the old text does not linger in free pages.
"""

from __future__ import annotations

import csv
import io
import json
import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.textio import read_text

EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# UK numbers: 07700 900123, 020 7946 0018, +44 20 7946 0018, (01632) 960 001
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?|0)(?:\(?\d{2,5}\)?[\s-]?)\d{3,4}[\s-]?\d{3,4}\b")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")


@dataclass(slots=True)
class Pseudonyms:
    """Identifier -> pseudonym, stable over the run, numbered per kind."""

    given: dict[str, str] = field(default_factory=dict)
    made: dict[tuple[str, str], str] = field(default_factory=dict)

    def of(self, kind: str, value: str) -> str:
        key = (kind, value.casefold())
        if key not in self.made:
            number = 1 + sum(1 for k in self.made if k[0] == kind)
            self.made[key] = f"[{kind}-{number}]"
        return self.made[key]


def read_names(path: Path) -> dict[str, str | None]:
    """A names file: ``name`` or ``name,pseudonym`` per line (a CSV); blank lines skipped."""
    out: dict[str, str | None] = {}
    for number, row in enumerate(csv.reader(io.StringIO(read_text(path))), start=1):
        if not row or not row[0].strip() or row[0].startswith("#"):
            continue
        name = row[0].strip()
        if len(name) < 2:
            raise InputError(path, f"name {name!r} is too short to replace safely", line=number)
        out[name] = row[1].strip() if len(row) > 1 and row[1].strip() else None
    if not out:
        raise InputError(path, "no names in the file")
    return out


def find(
    text: str,
    names: dict[str, str | None],
    pseudonyms: Pseudonyms,
    person: Callable[[str], list[tuple[int, int]]] | None = None,
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, replacement) in ``text``, earliest and longest first."""
    found: list[tuple[int, int, str]] = []
    for name in sorted(names, key=len, reverse=True):
        pattern = re.compile(rf"(?<!\w){re.escape(name)}(?:'s)?(?!\w)", re.IGNORECASE)
        for m in pattern.finditer(text):
            end = m.start() + len(name)
            found.append((m.start(), end, names[name] or pseudonyms.of("PERSON", name)))
    for kind, pattern in (("EMAIL", EMAIL), ("PHONE", PHONE), ("POSTCODE", POSTCODE)):
        for m in pattern.finditer(text):
            found.append((m.start(), m.end(), pseudonyms.of(kind, m.group())))
    if person is not None:
        for start, end in person(text):
            found.append((start, end, pseudonyms.of("PERSON", text[start:end])))
    chosen: list[tuple[int, int, str]] = []
    for start, end, replacement in sorted(found, key=lambda f: (f[0], -(f[1] - f[0]))):
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end, replacement))
    return chosen


class OffsetShift:
    """Old offsets -> new ones after replacements; a position inside a replaced span maps to
    the replacement's start (a start) or end (an end)."""

    def __init__(self, replacements: list[tuple[int, int, str]]) -> None:
        self.starts = [s for s, _, _ in replacements]
        self.items = replacements
        self.before: list[int] = []  # total shift before each replacement
        shift = 0
        for start, end, new in replacements:
            self.before.append(shift)
            shift += len(new) - (end - start)

    def __call__(self, offset: int, *, is_end: bool = False) -> int:
        k = bisect_right(self.starts, offset - (1 if is_end else 0)) - 1
        if k < 0:
            return offset
        start, end, new = self.items[k]
        shift = self.before[k]
        if offset >= end:
            return offset + shift + len(new) - (end - start)
        if offset <= start and not is_end:
            return offset + shift
        return start + shift + (len(new) if is_end else 0)


def apply(text: str, replacements: list[tuple[int, int, str]]) -> str:
    pieces, pos = [], 0
    for start, end, new in replacements:
        pieces += [text[pos:start], new]
        pos = end
    return "".join([*pieces, text[pos:]])


@dataclass(slots=True)
class PseudonymReport:
    documents: int = 0
    replacements: dict[str, int] = field(default_factory=dict)  # kind -> count
    topic_models: int = 0
    outputs: list[str] = field(default_factory=list)


def pseudonymise(
    store: Store,
    names: dict[str, str | None],
    *,
    person: Callable[[str], list[tuple[int, int]]] | None = None,
    dry_run: bool = False,
) -> PseudonymReport:
    pseudonyms = Pseudonyms()
    report = PseudonymReport()
    documents = store.execute("SELECT id, text FROM documents ORDER BY id").fetchall()
    with store.atomic():
        changed = []
        for doc in documents:
            found = find(doc["text"], names, pseudonyms, person)
            if not found:
                continue
            changed.append(doc["id"])
            report.documents += 1
            for _, _, new in found:
                kind = new[1:].split("-")[0] if new.startswith("[") else "name"
                report.replacements[kind] = report.replacements.get(kind, 0) + 1
            if not dry_run:
                _rewrite(store, doc["id"], doc["text"], found)
        if dry_run or not changed:
            return report
        report.topic_models = q.drop_topic_models_of(store, changed)
        report.outputs = q.take_outputs(store)
        run = q.start_run(store, "pseudonymise", {"documents": report.documents})
        q.finish_run(store, run)
    q.purge_free_pages(store)
    report.outputs = q.delete_outputs(report.outputs)
    return report


def _rewrite(store: Store, document_id: int, text: str, found: list[tuple[int, int, str]]) -> None:
    shift = OffsetShift(found)
    new_text = apply(text, found)
    store.execute("UPDATE documents SET text = ? WHERE id = ?", (new_text, document_id))
    segments = store.execute(
        'SELECT id, start, "end" FROM segments WHERE document_id = ?', (document_id,)
    ).fetchall()
    moved = {}
    for s in segments:
        start, end = shift(s["start"]), shift(s["end"], is_end=True)
        moved[s["id"]] = (s["start"], start)
        store.execute(
            'UPDATE segments SET start = ?, "end" = ?, text = ?, words = ? WHERE id = ?',
            (start, end, new_text[start:end], len(new_text[start:end].split()), s["id"]),
        )
    for p in store.execute(
        'SELECT id, start, "end" FROM coding_spans WHERE document_id = ?', (document_id,)
    ).fetchall():
        start, end = shift(p["start"]), shift(p["end"], is_end=True)
        store.execute(
            'UPDATE coding_spans SET start = ?, "end" = ? WHERE id = ?',
            (start, max(end, start + 1), p["id"]),
        )
    marks = ",".join("?" * len(moved))
    for c in store.execute(
        f"SELECT id, segment_id, evidence FROM codings WHERE segment_id IN ({marks})",
        list(moved),
    ).fetchall():
        old_start, new_start = moved[c["segment_id"]]
        evidence = json.loads(c["evidence"])
        for e in evidence:
            e["start"] = shift(old_start + e["start"]) - new_start
            e["end"] = shift(old_start + e["end"], is_end=True) - new_start
        store.execute(
            'UPDATE codings SET evidence = ?, start = NULL, "end" = NULL WHERE id = ?',
            (json.dumps(evidence), c["id"]),
        )


def spacy_persons(model: str) -> Callable[[str], list[tuple[int, int]]]:
    """PERSON entities from an installed trained spaCy pipeline (never downloaded)."""
    import spacy

    if not spacy.util.is_package(model) and not Path(model).is_dir():
        raise InputError(
            None,
            f"spaCy pipeline {model!r} is not installed (qualcode never downloads models)",
            field="--spacy-model",
        )
    nlp = spacy.load(model, disable=["parser", "lemmatizer", "textcat"])
    nlp.max_length = 10_000_000

    def persons(text: str) -> list[tuple[int, int]]:
        return [(e.start_char, e.end_char) for e in nlp(text).ents if e.label_ == "PERSON"]

    return persons
