"""Coding in the terminal: a human reviews segments one by one, with the machine's suggestions.

Every decision is written in its own transaction the moment it is made, so a crash loses at
most the segment on screen, and a new session starts at the first segment the coder has not
yet examined. A decision is the set of codes the coder gives a segment (possibly none: "looked,
nothing applies"), recorded exactly like imported codings so agreement and training use it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from qualcode.codebook import Codebook, store_codebook
from qualcode.codebook.store import code_ids
from qualcode.coding.project import coder_id
from qualcode.coding.spans import clear_segment_spans, insert_spans
from qualcode.errors import InputError, QualcodeError, UnknownCodeError
from qualcode.store import Store
from qualcode.store import queries as q


@dataclass(slots=True)
class Suggestion:
    code: str
    label: str
    confidence: float
    evidence: list[dict[str, Any]]


# Words of context shown on each side of an evidence span, within its sentence.
CONTEXT_WORDS = 6
_SENTENCE_END = re.compile(r"[.!?;]\s|\n\s*\n")
_LEGACY_PATTERN = re.compile(r"pattern (\[.*\])\s*$")
_MODEL_TERM = re.compile(r"^term '([^']*)' \(\+([\d.]+)\)$")
_LEGACY_FLIP = re.compile(r"^(negated|wished for) \('([^']*)'\) prerequisite (\S+): (.*)$")


def in_context(text: str, start: int, end: int, words: int = CONTEXT_WORDS) -> tuple[str, str, str]:
    """The evidence span ``text[start:end]`` with up to ``words`` words either side, kept inside
    its sentence: (before, matched, after), an ellipsis marking words of the sentence left
    out."""
    left = text.rfind("\n\n", 0, start)
    for m in _SENTENCE_END.finditer(text, 0, start):
        left = max(left, m.end() - 1)
    left = max(left + 1, 0)
    stop = _SENTENCE_END.search(text, end)
    right = stop.start() + 1 if stop else len(text)
    before_words = text[left:start].split()
    after_words = text[end:right].split()
    before = " ".join(before_words[-words:]) if before_words else ""
    after = " ".join(after_words[:words]) if after_words else ""
    if len(before_words) > words:
        before = "…" + before
    if len(after_words) > words:
        after += "…"
    spaced_before = before + " " if before and text[start - 1 : start].isspace() else before
    spaced_after = " " + after if after and text[end : end + 1].isspace() else after
    return spaced_before, " ".join(text[start:end].split()), spaced_after


def readable_why(why: str, codebook: Codebook | None = None) -> str:
    """A stored reason as a reader should see it. Reasons written before rules were named
    carried the pattern as JSON ('pattern [{"LEMMA": "pool"}, ...]'); they are shown as the
    rule's term ('rule "pool budget/fund"'), and a flipped prerequisite by its name; the model
    coder's "term 'x' (+0.31)" as the words it weighs."""
    from qualcode.coding.rules import pattern_term

    model = _MODEL_TERM.match(why)
    if model:  # the model coder's "term 'joint team' (+0.42)"
        words = model.group(1).replace("not_", "(negated) ")
        return f'model: the words "{words}" weigh +{model.group(2)} for this code'
    flip = _LEGACY_FLIP.match(why)
    prefix = ""
    if flip:
        kind, cue, code, why = flip.groups()
        label = codebook.codes[code].label if codebook and code in codebook.codes else None
        name = f"{label} ({code})" if label else code
        how = "negated by" if kind == "negated" else "wished for with"
        prefix = f'its prerequisite {name} {how} "{cue}", '
    legacy = _LEGACY_PATTERN.search(why)
    if legacy:
        try:
            pattern = json.loads(legacy.group(1))
        except ValueError:
            return prefix + why
        if isinstance(pattern, list) and all(isinstance(t, dict) for t in pattern):
            why = why[: legacy.start()] + f'rule "{pattern_term(pattern)}"'
    return prefix + why


@dataclass(slots=True)
class Item:
    """One segment to review: where it is, what was asked before it, and the suggestions."""

    segment: dict[str, Any]
    question: str | None
    suggestions: list[Suggestion] = field(default_factory=list)


class ReviewSession:
    """The queue of segments ``coder`` has not examined, and the writes of their decisions."""

    def __init__(
        self,
        store: Store,
        coder: str,
        codebook: Codebook,
        *,
        site: str | None = None,
        document: str | None = None,
        code: str | None = None,
    ) -> None:
        self.store = store
        self.coder = coder
        self.codebook = codebook
        self.codes = {c.id: c for c in codebook.codable}
        if code is not None and code not in self.codes:
            raise UnknownCodeError(None, f"unknown code {code!r}", field="--code")
        row = store.execute("SELECT kind FROM coders WHERE name = ?", (coder,)).fetchone()
        if row is not None and row["kind"] != "human":
            raise InputError(
                None, f"{coder!r} is a machine coder; review as a person", field="--coder"
            )
        latest = q.latest_machine_run(store)
        self.machine_run = None if latest is None else int(latest["id"])
        self.queue = self._queue(site, document, code)
        self.run_id: int | None = None
        self.done: list[int] = []  # segments decided in this session, in order (for undo)

    # -- what to show ------------------------------------------------------------------------

    def _queue(self, site: str | None, document: str | None, code: str | None) -> list[int]:
        sql = (
            "SELECT s.id FROM segments s JOIN documents d ON d.id = s.document_id"
            " WHERE s.is_interviewer = 0 AND s.id NOT IN (SELECT u.segment_id FROM coded_segments u"
            " JOIN coders k ON k.id = u.coder_id WHERE k.name = ?)"
        )
        args: list[Any] = [self.coder]
        if site:
            sql += " AND d.site = ?"
            args.append(site)
        if document:
            sql += " AND (d.path = ? OR d.path LIKE ?)"
            args += [document, f"%/{document}"]
        if code:
            if self.machine_run is None:
                raise QualcodeError(
                    "--code picks segments the machine suggested it for; run 'qualcode code' first"
                )
            sql += (
                " AND s.id IN (SELECT c.segment_id FROM codings c JOIN codes x ON x.id = c.code_id"
                " WHERE c.run_id = ? AND x.code = ?)"
            )
            args += [self.machine_run, code]
        sql += " ORDER BY d.path, s.start"
        return [r[0] for r in self.store.execute(sql, tuple(args))]

    def remaining(self) -> int:
        return len(self.queue)

    def item(self, segment_id: int) -> Item:
        seg = self.store.execute(
            "SELECT s.id, s.document_id, s.turn_index, s.text, s.speaker, d.path AS document,"
            " d.site, p.role, p.stakeholder_group, p.tier FROM segments s"
            " JOIN documents d ON d.id = s.document_id"
            " LEFT JOIN participants p ON p.id = coalesce(s.participant_id, d.participant_id)"
            " WHERE s.id = ?",
            (segment_id,),
        ).fetchone()
        question = self.store.execute(
            "SELECT text FROM segments WHERE document_id = ? AND is_interviewer = 1"
            " AND turn_index < ? ORDER BY turn_index DESC, part DESC LIMIT 1",
            (seg["document_id"], seg["turn_index"]),
        ).fetchone()
        item = Item(dict(seg), question[0] if question else None)
        if self.machine_run is not None:
            for r in self.store.execute(
                "SELECT x.code, x.label, c.confidence, c.evidence FROM codings c"
                " JOIN codes x ON x.id = c.code_id WHERE c.segment_id = ? AND c.run_id = ?"
                " ORDER BY c.confidence DESC",
                (segment_id, self.machine_run),
            ):
                item.suggestions.append(
                    Suggestion(r["code"], r["label"], r["confidence"], json.loads(r["evidence"]))
                )
        return item

    def find_code(self, text: str) -> list[str]:
        """Codes matching what the coder typed: an id, an id's last part, or words of a label."""
        text = text.strip()
        if text in self.codes:
            return [text]
        tail = [c for c in self.codes if c.split(".")[-1] == text]
        if tail:
            return tail
        words = text.casefold().split()
        return [
            c.id
            for c in self.codes.values()
            if words and all(w in f"{c.id} {c.label}".casefold() for w in words)
        ]

    def completions(self) -> list[str]:
        return sorted(self.codes) + sorted({c.label for c in self.codes.values()})

    # -- writes ------------------------------------------------------------------------------

    def decide(self, segment_id: int, codes: set[str]) -> None:
        """Record the coder's codes for a segment (none: examined, nothing applies); commits."""
        unknown = sorted(codes - set(self.codes))
        if unknown:
            raise UnknownCodeError(None, f"unknown code {unknown[0]!r}", field="code")
        with self.store.atomic():
            who = coder_id(self.store, self.coder, "human")
            ids = code_ids(self.store, store_codebook(self.store, self.codebook))
            if self.run_id is None:
                self.run_id = q.start_run(
                    self.store,
                    "review",
                    {"machine_run": self.machine_run},
                    codebook_hash=self.codebook.hash,
                    coder=self.coder,
                )
            self._forget(segment_id, who)
            self.store.execute(
                "INSERT INTO coded_segments (segment_id, coder_id, run_id) VALUES (?, ?, ?)",
                (segment_id, who, self.run_id),
            )
            now = q.now()
            self.store.conn.executemany(
                "INSERT INTO codings (segment_id, code_id, coder_id, run_id, confidence,"
                " created_at) VALUES (?, ?, ?, ?, 1.0, ?)",
                [(segment_id, ids[c], who, self.run_id, now) for c in sorted(codes)],
            )
            seg = self.store.execute(
                'SELECT document_id, start, "end" FROM segments WHERE id = ?', (segment_id,)
            ).fetchone()
            for c in sorted(codes):  # a decision codes the whole segment
                insert_spans(
                    self.store,
                    seg["document_id"],
                    ids[c],
                    who,
                    self.run_id,
                    [(seg["start"], seg["end"])],
                )
            q.finish_run(self.store, self.run_id)
        if segment_id in self.queue:
            self.queue.remove(segment_id)
        self.done.append(segment_id)

    def undo(self) -> int | None:
        """Take back the last decision of this session; returns its segment (shown again)."""
        if not self.done:
            return None
        segment_id = self.done.pop()
        with self.store.atomic():
            who = coder_id(self.store, self.coder, "human")
            self._forget(segment_id, who)
        self.queue.insert(0, segment_id)
        return segment_id

    def _forget(self, segment_id: int, who: int) -> None:
        clear_segment_spans(self.store, who, segment_id)
        self.store.execute(
            "DELETE FROM codings WHERE segment_id = ? AND coder_id = ?", (segment_id, who)
        )
        self.store.execute(
            "DELETE FROM coded_segments WHERE segment_id = ? AND coder_id = ?", (segment_id, who)
        )
