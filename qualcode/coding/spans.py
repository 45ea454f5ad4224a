"""A human coder's spans: kept whole, merged per code, and read as segment codings.

Coders in NVivo, ATLAS.ti, MAXQDA or a spreadsheet code character spans, and a span may cover
part of a turn or parts of several. qualcode keeps every span (``coding_spans``, per document,
code and coder; overlapping or touching spans of one code are merged), which is what the
character unit of the agreement audit counts. For the segment unit each span is read as
codings of turns by one rule (:func:`covered`): a respondent turn carries the code when the
span covers at least half of the turn, or when at least half of the span lies inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qualcode.store import Store
from qualcode.textio import merge_spans

Span = tuple[int, int]


def covered(start: int, end: int, segments: Sequence[Any]) -> list[int]:
    """Ids of the segments (rows with id, start, end) that the span [start, end) codes."""
    ids = []
    for s in segments:
        overlap = min(end, s["end"]) - max(start, s["start"])
        if overlap > 0 and (overlap * 2 >= s["end"] - s["start"] or overlap * 2 >= end - start):
            ids.append(s["id"])
    return ids


@dataclass(slots=True)
class DocumentCodings:
    """One coder's codings of one document, before they are stored."""

    document_id: int
    spans: dict[str, list[Span]] = field(default_factory=dict)  # code -> spans
    listed: set[int] = field(default_factory=set)  # segments listed, coded or not

    def add(self, code: str | None, start: int, end: int, segments: Sequence[Any]) -> list[int]:
        """Record a span (no code: the segments it covers were examined, nothing applies);
        returns the respondent segments it codes by the overlap rule."""
        ids = covered(start, end, segments)
        self.listed.update(ids)
        if code is not None:
            self.spans.setdefault(code, []).append((start, end))
        return ids

    def codings(self, segments: Sequence[Any]) -> set[tuple[int, str]]:
        """(segment id, code) pairs the merged spans give, by the overlap rule."""
        return {
            (segment, code)
            for code, spans in self.spans.items()
            for start, end in merge_spans(spans)
            for segment in covered(start, end, segments)
        }


def respondent_segments_of(store: Store, document_id: int) -> list[Any]:
    return store.execute(
        'SELECT id, start, "end" FROM segments WHERE document_id = ? AND is_interviewer = 0'
        " ORDER BY start",
        (document_id,),
    ).fetchall()


def clear_segment_spans(store: Store, coder_id: int, segment_id: int) -> None:
    """Take a segment's characters out of the coder's spans (a review decision replaces them);
    the parts of a span outside the segment stay."""
    seg = store.execute(
        'SELECT document_id, start, "end" FROM segments WHERE id = ?', (segment_id,)
    ).fetchone()
    rows = store.execute(
        'SELECT id, code_id, run_id, start, "end" FROM coding_spans WHERE coder_id = ?'
        ' AND document_id = ? AND start < ? AND "end" > ?',
        (coder_id, seg["document_id"], seg["end"], seg["start"]),
    ).fetchall()
    for r in rows:
        store.execute("DELETE FROM coding_spans WHERE id = ?", (r["id"],))
        for start, end in ((r["start"], seg["start"]), (seg["end"], r["end"])):
            if end > start:
                insert_spans(
                    store, seg["document_id"], r["code_id"], coder_id, r["run_id"], [(start, end)]
                )


def insert_spans(
    store: Store,
    document_id: int,
    code_id: int,
    coder_id: int,
    run_id: int | None,
    spans: Iterable[Span],
) -> None:
    store.conn.executemany(
        'INSERT INTO coding_spans (document_id, code_id, coder_id, run_id, start, "end")'
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(document_id, code_id, coder_id, run_id, s, e) for s, e in spans],
    )
