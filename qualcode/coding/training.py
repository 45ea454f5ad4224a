"""Training and evaluation units: segment texts with the codes a human gave them.

Units come from a coder in the project store, or from a coding CSV over a corpus on disk (the
shipped codebook names the demo corpus's adjudicated ``gold`` codings), so a fresh project still
gets a trained model.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.codebook import Codebook
from qualcode.codebook.load import shipped_codebook_hash
from qualcode.data import shipped_training
from qualcode.errors import InputError, UnknownCodeError
from qualcode.ingest import read_documents
from qualcode.store import Store
from qualcode.textio import read_text, text_sha256


@dataclass(slots=True)
class Units:
    """Parallel lists: one entry per unit (a respondent segment a coder examined)."""

    texts: list[str] = field(default_factory=list)
    labels: list[set[str]] = field(default_factory=list)
    # Document of each unit, for grouped CV; units read from a corpus on disk put the corpus
    # folder's name first ("training-quotes/quotes.csv#Q001"), which the family coder reads as
    # the unit's source.
    groups: list[str] = field(default_factory=list)
    keys: list[tuple[str, int, int]] = field(default_factory=list)  # (document, start, end)
    source: str = ""
    coders: list[str] = field(default_factory=list)  # whose codings these are
    documents: dict[str, str] = field(default_factory=dict)  # group -> sha256 of its text

    def provenance(self) -> dict[str, object]:
        """What a machine run trained on, as recorded with the run: the agreement audit reads
        it to mark an audit in-sample."""
        return {
            "source": self.source,
            "coders": sorted(set(self.coders)),
            "documents": sorted(set(self.documents.values())),
        }

    def __len__(self) -> int:
        return len(self.texts)

    def extend(self, other: Units) -> None:
        self.texts += other.texts
        self.labels += other.labels
        self.groups += other.groups
        self.keys += other.keys
        self.coders += other.coders
        self.documents.update(other.documents)
        self.source = " + ".join(s for s in (self.source, other.source) if s)

    def add(
        self, document: str, start: int, end: int, text: str, codes: set[str], group: str = ""
    ) -> None:
        self.texts.append(text)
        self.labels.append(codes)
        self.groups.append(group or document)
        self.keys.append((document, start, end))


def units_from_store(store: Store, coder: str, codebook: Codebook) -> Units:
    """Every segment ``coder`` examined, with the codes it gave (from all its runs)."""
    row = store.execute("SELECT id FROM coders WHERE name = ?", (coder,)).fetchone()
    if row is None:
        known = [r[0] for r in store.execute("SELECT name FROM coders ORDER BY name")]
        raise InputError(
            None,
            f"no coder {coder!r} in the project (coders: {', '.join(known) or 'none'})",
            field="--from",
        )
    segments = store.execute(
        'SELECT DISTINCT s.id, d.path, s.start, s."end", s.text FROM coded_segments u'
        " JOIN segments s ON s.id = u.segment_id JOIN documents d ON d.id = s.document_id"
        " WHERE u.coder_id = ? AND s.is_interviewer = 0 ORDER BY d.path, s.start",
        (row["id"],),
    ).fetchall()
    codes: dict[int, set[str]] = {}
    for r in store.execute(
        "SELECT c.segment_id, k.code FROM codings c JOIN codes k ON k.id = c.code_id"
        " WHERE c.coder_id = ?",
        (row["id"],),
    ):
        codes.setdefault(r["segment_id"], set()).add(r["code"])
    codable = {c.id for c in codebook.codable}
    units = Units(source=f"coder {coder} in the project", coders=[coder])
    for s in segments:
        units.add(s["path"], s["start"], s["end"], s["text"], codes.get(s["id"], set()) & codable)
    paths = sorted({s["path"] for s in segments})
    for path in paths:
        text = store.execute("SELECT text FROM documents WHERE path = ?", (path,)).fetchone()[0]
        units.documents[path] = text_sha256(text)
    return units


def read_coding_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a coding CSV with their line numbers; checks the required columns."""
    text = read_text(path)
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    has_span = {"document", "start", "end", "code"} <= set(header)
    has_id = {"document", "segment_id", "code"} <= set(header)
    if not (has_span or has_id):
        raise InputError(
            path,
            "a coding CSV needs columns document, start, end, code (or document, segment_id, "
            f"code); it has {', '.join(header)}",
            line=1,
        )
    rows = []
    for row in reader:
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        rows.append((reader.line_num, clean))
    return rows


def units_from_files(codings: Path, corpus: Path, codebook: Codebook) -> Units:
    """Units from a coding CSV (document, start, end, code) over a corpus folder on disk."""
    documents = {doc.path: doc for doc in read_documents([corpus])}
    codable = {c.id for c in codebook.codable}
    by_unit: dict[tuple[str, int, int], set[str]] = {}
    texts: dict[tuple[str, int, int], str] = {}
    for line, row in read_coding_rows(codings):
        doc = documents.get(row["document"])
        if doc is None:
            raise InputError(codings, f"no document {row['document']!r} in {corpus}", line=line)
        try:
            start, end = int(row["start"]), int(row["end"])
        except (KeyError, ValueError) as exc:
            raise InputError(codings, "start and end must be whole numbers", line=line) from exc
        segment = _best_segment(doc, start, end)
        if segment is None:
            raise InputError(
                codings, f"no respondent segment at {start}-{end} of {doc.path}", line=line
            )
        key = (doc.path, segment.start, segment.end)
        texts[key] = segment.text
        code = row.get("code", "")
        if code and code not in codable:
            raise UnknownCodeError(codings, f"unknown code {code!r}", line=line, field="code")
        by_unit.setdefault(key, set())
        if code:
            by_unit[key].add(code)
    units = Units(source=f"{codings.name} over {corpus.name}", coders=[codings.stem])
    for key in sorted(by_unit):
        group = f"{corpus.name}/{key[0]}"
        units.add(*key, texts[key], by_unit[key], group=group)
        units.documents.setdefault(group, text_sha256(documents[key[0]].text))
    return units


def _best_segment(doc, start: int, end: int):
    """The respondent segment overlapping [start, end) the most."""
    best, best_overlap = None, 0
    for seg in doc.segments:
        if seg.is_interviewer:
            continue
        overlap = min(end, seg.end) - max(start, seg.start)
        if overlap > best_overlap:
            best, best_overlap = seg, overlap
    return best


def default_units(codebook: Codebook) -> Units:
    """The training units the codebook names. For the shipped codebook they come from the
    package (``qualcode.data``: the adjudicated gold of the demo corpus, the training quotes and
    the training prose), so an installed wheel trains without the repository; for another
    codebook, from the files its ``training:`` section names, relative to the codebook file."""
    if codebook.hash == shipped_codebook_hash():
        return shipped_units()
    paths = codebook.training_paths()
    if not paths:
        raise InputError(
            codebook.path,
            "this codebook names no training codings and the project has none; import human "
            "codings and run 'qualcode train --from CODER', or use --kind rules",
            field="training",
        )
    units = Units()
    for codings, corpus in paths:
        if not codings.is_file() or not corpus.exists():
            missing = codings if not codings.is_file() else corpus
            raise InputError(
                codebook.path,
                f"training data {missing} not found (paths are relative to the codebook file); "
                "run 'qualcode settings training CODER' to train on a coder in the project",
                field="training",
            )
        units.extend(units_from_files(codings, corpus, codebook))
    return units


def shipped_units() -> Units:
    """The shipped codebook's training units, read from the package data."""
    units = Units()
    for block in shipped_training():
        part = Units(source=block["source"], coders=list(block["coders"]))
        for document, start, end, text, codes, group in block["units"]:
            part.add(document, start, end, text, set(codes), group=group)
        part.documents.update(block["documents"])
        units.extend(part)
    return units
