"""Write parsed documents to the store in chunks: a few ``executemany`` calls per chunk.

Ingest used to write each document with its own queries (look up each participant, insert it,
insert the document, insert its segments): four statements per survey response. The writer
collects documents and writes a chunk at a time, inside the caller's transaction, so that a
survey of 500,000 responses is neither held in memory whole nor written one row per query.

The rows are those of ``queries.upsert_participant`` and ``queries.insert_document``, in the
same order, so the store is the same as writing document by document (tests/test_scale.py
checks this on the demo corpus).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.types import ParsedDocument, Participant

CHUNK = 5000  # documents per write; a chunk of survey responses is a few megabytes
_IN = 500  # values per "IN (...)" lookup, under SQLite's parameter limit
PARTICIPANT_FIELDS = ("site", "stakeholder_group", "role", "organisation", "tier")


class DocumentWriter:
    """Buffers ``(document, sha256, site)`` and writes them ``chunk`` at a time."""

    def __init__(self, store: Store, run_id: int, chunk: int = CHUNK) -> None:
        self.store = store
        self.run_id = run_id
        self.chunk = chunk
        self.pending: list[tuple[ParsedDocument, str, str | None]] = []
        self.written = 0

    def add(self, doc: ParsedDocument, sha256: str, site: str | None) -> None:
        self.pending.append((doc, sha256, site))
        if len(self.pending) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        chunk, self.pending = self.pending, []
        ids = self._participants(chunk)
        stamp = q.now()
        self.store.conn.executemany(
            q.INSERT_DOCUMENT,
            (
                q.document_row(
                    doc,
                    sha256=sha,
                    site=site,
                    participant_id=_main_participant(doc, ids),
                    run_id=self.run_id,
                    stamp=stamp,
                )
                for doc, sha, site in chunk
            ),
        )
        doc_ids = _lookup(self.store, "documents", "path", [doc.path for doc, _, _ in chunk])
        self.store.conn.executemany(
            q.INSERT_SEGMENT,
            (
                q.segment_row(doc_ids[doc.path], seg, ids)
                for doc, _, _ in chunk
                for seg in doc.segments
            ),
        )
        self.written += len(chunk)

    def _participants(self, chunk) -> dict[str, int]:
        """Ids of every pseudonym in the chunk, created or updated as ``upsert_participant``
        would, one call after another: new people in one ``executemany``; a pseudonym already
        in the project, or met twice in the chunk, through ``upsert_participant`` itself (its
        site check and its filling in of missing fields)."""
        people = [(person, doc.source) for doc, _, site in chunk for person in _people(doc, site)]
        known = set(
            _lookup(self.store, "participants", "pseudonym", [p.pseudonym for p, _ in people])
        )
        ids: dict[str, int] = {}
        new: list[Participant] = []

        def insert_new() -> None:
            if not new:
                return
            self.store.conn.executemany(
                "INSERT INTO participants (pseudonym, site, stakeholder_group, role,"
                " organisation, tier, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        p.pseudonym,
                        *(getattr(p, f) for f in PARTICIPANT_FIELDS),
                        json.dumps(p.metadata, sort_keys=True, default=str),
                    )
                    for p in new
                ],
            )
            names = [p.pseudonym for p in new]
            ids.update(_lookup(self.store, "participants", "pseudonym", names))
            known.update(names)
            new.clear()

        pending: set[str] = set()
        for person, origin in people:
            if person.pseudonym in known or person.pseudonym in pending:
                insert_new()
                pending.clear()
                ids[person.pseudonym] = q.upsert_participant(self.store, person, origin=origin)
            else:
                new.append(person)
                pending.add(person.pseudonym)
        insert_new()
        return ids


def _people(doc: ParsedDocument, site: str | None) -> Iterable[Participant]:
    """The document's participants in the order ingest has always upserted them."""
    meta = doc.metadata
    pseudonyms = {s.participant for s in doc.segments if s.participant}
    main = _str(meta.get("participant"))
    if main:
        pseudonyms.add(main)
    for pseudonym in sorted(pseudonyms):
        person = Participant(pseudonym=pseudonym, site=site)
        if pseudonym == main:
            for f in PARTICIPANT_FIELDS[1:]:
                setattr(person, f, _str(meta.get(f)))
        yield person


def _main_participant(doc, ids: dict[str, int]) -> int | None:
    main = _str(doc.metadata.get("participant"))
    return ids.get(main) if main else None


def _lookup(store: Store, table: str, column: str, values: list[str]) -> dict[str, int]:
    """``value -> id`` for the rows of ``table`` whose unique ``column`` is in ``values``."""
    out: dict[str, int] = {}
    distinct = list(dict.fromkeys(values))
    for i in range(0, len(distinct), _IN):
        part = distinct[i : i + _IN]
        marks = ", ".join("?" * len(part))
        sql = f"SELECT {column}, id FROM {table} WHERE {column} IN ({marks})"
        out.update((v, int(k)) for v, k in store.execute(sql, tuple(part)))
    return out


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
