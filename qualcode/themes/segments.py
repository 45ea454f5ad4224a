"""The respondent segments topic modelling reads, a part at a time, and the codes they carry.

A consultation's 500,000 responses do not fit in memory as text, cleaned text and vectors
together (1.8 GB at 500,000), so themes read the store in passes: ``Corpus`` first reads the
order of the segments, each one's group and the words ``proper_nouns`` needs, holding no text;
then ``Corpus.read`` gives the segments a model is fitted on, and the others a chunk at a time.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from qualcode.errors import InputError, QualcodeError
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.themes.text import ProperNouns
from qualcode.types import REFERENCE_CODERS


class Unit:
    """A respondent segment as topic modelling uses it, read as ``unit["text"]``.

    A dict per segment, with the columns topics never read, held 1.2 KB a segment (600 MB for
    500,000 survey responses); this holds about half. Values that repeat (site, group, tier,
    role; a survey respondent's speaker and pseudonym) are one object, through ``shared``.
    """

    __slots__ = (
        "document",
        "id",
        "participant",
        "role",
        "site",
        "speaker",
        "stakeholder_group",
        "text",
        "tier",
    )

    def __init__(self, row: Any, shared: dict[Any, Any]) -> None:
        self.id = row["id"]
        self.text = row["text"]
        self.document = row["document"]
        self.speaker = row["speaker"]
        participant = row["participant"]
        self.participant = self.speaker if participant == self.speaker else participant
        for name in ("site", "stakeholder_group", "tier", "role"):
            value = row[name]
            setattr(self, name, shared.setdefault(value, value))

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


class Corpus:
    """The respondent segments (of one site, with ``site``) in store order: their ids, the
    positions of each group's members (``members[value]``; one group, None, without ``by``),
    and each group's proper nouns. Reading it keeps no text."""

    def __init__(self, store: Store, site: str | None = None, by: str | None = None) -> None:
        self.store = store
        self.site = site
        ids = array("q")
        group_of = array("i")
        numbers: dict[str | None, int] = {}
        self._nouns: list[ProperNouns] = []
        for row in q.iter_respondent_units(store, site):
            ids.append(row["id"])
            value = (row[by] or "(none)") if by else None
            number = numbers.get(value)
            if number is None:
                number = numbers[value] = len(numbers)
                self._nouns.append(ProperNouns())
            group_of.append(number)
            self._nouns[number].add(row["text"])
        self.ids = np.frombuffer(ids, dtype=np.int64) if ids else np.empty(0, np.int64)
        groups = np.frombuffer(group_of, dtype=np.int32) if group_of else np.empty(0, np.int32)
        self.members = {value: np.flatnonzero(groups == k) for value, k in numbers.items()}
        self._numbers = numbers

    def __len__(self) -> int:
        return len(self.ids)

    def proper_nouns(self, value: str | None) -> set[str]:
        """The group's proper nouns (``text.proper_nouns`` over all its segments)."""
        return self._nouns[self._numbers[value]].words()

    def read(self, parts: Sequence[np.ndarray]) -> Iterator[list[Unit]]:
        """The segments at each part's positions, a list per part, in one pass over the store.
        Positions ascend within and across parts. A segment that is not where the first pass
        found it means another command changed the project meanwhile: an error, not topics
        over a mixture."""
        rows = q.iter_respondent_units(self.store, self.site)
        shared: dict[Any, Any] = {}
        at = 0
        for part in parts:
            units = []
            for position in part.tolist():
                if position < at:
                    raise ValueError("positions must ascend")
                while True:
                    row = next(rows, None)
                    if row is None or row["id"] != self.ids[at]:
                        raise QualcodeError(
                            "the project's segments changed while themes were being fitted"
                            " (another qualcode command wrote to it); run themes again"
                        )
                    at += 1
                    if at > position:
                        break
                units.append(Unit(row, shared))
            yield units


class CodeSets(Mapping[int, frozenset[str]]):
    """Codes per segment id, read as a dict (``codes[segment_id]``), held as two arrays and
    the distinct sets: a dict of 500,000 segments held about 55 MB, this about 6 MB."""

    def __init__(self, ids: np.ndarray, which: np.ndarray, sets: list[frozenset[str]]) -> None:
        self._ids = ids  # ascending segment ids
        self._which = which  # the index of each one's set in ``sets``
        self._sets = sets

    def _at(self, segment_id: int) -> int:
        i = int(np.searchsorted(self._ids, segment_id))
        return i if i < len(self._ids) and self._ids[i] == segment_id else -1

    def __getitem__(self, segment_id: int) -> frozenset[str]:
        i = self._at(segment_id)
        if i < 0:
            raise KeyError(segment_id)
        return self._sets[self._which[i]]

    def __contains__(self, segment_id: object) -> bool:
        return isinstance(segment_id, int | np.integer) and self._at(int(segment_id)) >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)

    def lookup(self, segment_ids: Sequence[int]) -> list[frozenset[str] | None]:
        """The codes of each segment, None for one the coder never examined."""
        wanted = np.asarray(segment_ids, dtype=np.int64)
        at = np.searchsorted(self._ids, wanted).clip(max=max(len(self._ids) - 1, 0))
        if not len(self._ids):
            return [None] * len(wanted)
        found = self._ids[at] == wanted
        return [self._sets[w] if f else None for w, f in zip(self._which[at], found, strict=True)]


def reference_codes(store: Store, coder: str | None) -> tuple[str | None, CodeSets]:
    """Codes per segment from ``coder``, else the adjudicated coder, else the latest machine run.

    Segments the coder examined and found nothing in map to an empty set; segments it never
    examined are absent."""
    if coder is None:
        names = {r[0] for r in store.execute("SELECT name FROM coders WHERE kind = 'human'")}
        coder = next((n for n in REFERENCE_CODERS if n in names), None)
    run_id = None
    if coder is None:
        latest = q.latest_machine_run(store)
        if latest is None:
            return None, CodeSets(np.empty(0, np.int64), np.empty(0, np.int32), [])
        coder, run_id = latest["coder"], latest["id"]
    row = store.execute("SELECT id, kind FROM coders WHERE name = ?", (coder,)).fetchone()
    if row is None:
        raise InputError(None, f"no coder {coder!r} in the project", field="--codes-from")
    if row["kind"] == "machine" and run_id is None:
        run_id = store.execute(
            "SELECT max(run_id) FROM coded_segments WHERE coder_id = ?", (row["id"],)
        ).fetchone()[0]
    clause = "" if run_id is None else " AND {}run_id = ?"
    args = (row["id"],) if run_id is None else (row["id"], run_id)
    examined = "SELECT segment_id FROM coded_segments WHERE coder_id = ?" + clause.format("")
    seen = array("q", (r[0] for r in store.execute(examined, args)))
    codings = (
        "SELECT c.segment_id, group_concat(k.code, char(31)) FROM codings c"
        " JOIN codes k ON k.id = c.code_id WHERE c.coder_id = ?" + clause.format("c.")
    )
    # the same set of codes is one index, however many segments carry it
    sets: dict[frozenset[str], int] = {frozenset(): 0}
    coded, which = array("q"), array("i")
    for seg, codes in store.execute(codings + " GROUP BY c.segment_id", args):
        key = frozenset(codes.split("\x1f"))
        coded.append(seg)
        which.append(sets.setdefault(key, len(sets)))
    coded_ids = np.frombuffer(coded, np.int64) if coded else np.empty(0, np.int64)
    ids = np.union1d(np.frombuffer(seen, np.int64) if seen else coded_ids, coded_ids)
    index = np.zeros(len(ids), dtype=np.int32)
    if coded:
        index[np.searchsorted(ids, coded_ids)] = np.frombuffer(which, np.int32)
    name = coder if run_id is None else f"{coder} (run {run_id})"
    return name, CodeSets(ids, index, list(sets))
