"""Reads and writes on the project store. Callers wrap writes in ``store.atomic()``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qualcode import __version__
from qualcode.errors import InputError
from qualcode.store.db import Store
from qualcode.types import ParsedDocument, Participant


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def start_run(
    store: Store,
    command: str,
    parameters: dict[str, Any] | None = None,
    *,
    codebook_hash: str | None = None,
    coder: str | None = None,
) -> int:
    cur = store.execute(
        "INSERT INTO runs (command, version, parameters, codebook_hash, coder, started_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            command,
            __version__,
            json.dumps(parameters or {}, sort_keys=True, default=str),
            codebook_hash,
            coder,
            now(),
        ),
    )
    return int(cur.lastrowid)


def get_setting(store: Store, key: str) -> str | None:
    row = store.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row["value"])


def set_setting(store: Store, key: str, value: str) -> None:
    """Callers wrap this in ``store.atomic()`` with the change it belongs to."""
    store.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def set_setting_if_unset(store: Store, key: str, value: str) -> None:
    """Set ``key`` only in a project that has none yet (the first command to use a codebook
    makes it the project's); inside the caller's transaction."""
    store.execute("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)", (key, value))


def latest_machine_run(store: Store) -> Any:
    """The latest finished coding run of any machine coder (id, coder, parameters), or None."""
    return store.execute(
        "SELECT r.id, r.coder, r.parameters FROM runs r JOIN coders k ON k.name = r.coder"
        " WHERE k.kind = 'machine' AND r.command = 'code' AND r.status = 'finished'"
        " ORDER BY r.id DESC LIMIT 1"
    ).fetchone()


# The one definition of a respondent unit: a segment not spoken by the interviewer, with its
# document and the metadata of its participant (the turn's own, else the document's).
RESPONDENT_UNITS = (
    "SELECT s.id, s.document_id, d.path AS document, d.format, d.site, s.speaker, s.start,"
    ' s."end", s.text, s.words, coalesce(p.pseudonym, dp.pseudonym) AS participant,'
    " coalesce(p.stakeholder_group, dp.stakeholder_group) AS stakeholder_group,"
    " coalesce(p.tier, dp.tier) AS tier, coalesce(p.role, dp.role) AS role"
    " FROM segments s JOIN documents d ON d.id = s.document_id"
    " LEFT JOIN participants p ON p.id = s.participant_id"
    " LEFT JOIN participants dp ON dp.id = d.participant_id"
    " WHERE s.is_interviewer = 0"
)


def respondent_units(
    store: Store, site: str | None = None, document: str | None = None
) -> list[dict[str, Any]]:
    """Respondent segments with their document and participant metadata, in document order;
    ``document`` matches a path or its last part (``SAL-03.txt``)."""
    return [dict(r) for r in iter_respondent_units(store, site, document)]


def iter_respondent_units(
    store: Store, site: str | None = None, document: str | None = None
) -> Iterator[Any]:
    """``respondent_units`` as rows read one at a time (sqlite3.Row: ``row["text"]``), for a
    caller that keeps only part of each."""
    sql = RESPONDENT_UNITS
    args: list[Any] = []
    if site:
        sql += " AND d.site = ?"
        args.append(site)
    if document:
        sql += " AND (d.path = ? OR d.path LIKE ?)"
        args += [document, f"%/{document}"]
    return iter(store.execute(sql + " ORDER BY d.path, s.start", tuple(args)))


def finish_run(store: Store, run_id: int) -> None:
    store.execute(
        "UPDATE runs SET finished_at = ?, status = 'finished' WHERE id = ?", (now(), run_id)
    )


def upsert_participant(store: Store, person: Participant, *, origin: str) -> int:
    """Return the id of the participant, creating it or filling in missing fields.

    One pseudonym names one person: the same pseudonym at two sites is an error, since it
    almost always means a typo in a manifest and would merge two people's talk.
    """
    row = store.execute(
        "SELECT * FROM participants WHERE pseudonym = ?", (person.pseudonym,)
    ).fetchone()
    fields = ("site", "stakeholder_group", "role", "organisation", "tier")
    if row is None:
        cur = store.execute(
            "INSERT INTO participants (pseudonym, site, stakeholder_group, role, organisation,"
            " tier, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                person.pseudonym,
                *(getattr(person, f) for f in fields),
                json.dumps(person.metadata, sort_keys=True, default=str),
            ),
        )
        return int(cur.lastrowid)
    if person.site and row["site"] and person.site != row["site"]:
        raise InputError(
            origin,
            f"participant {person.pseudonym!r} is at site {person.site!r} here but at "
            f"{row['site']!r} in the project; one pseudonym cannot belong to two sites",
            field="participant",
        )
    updates = {f: getattr(person, f) for f in fields if getattr(person, f) and not row[f]}
    if updates:
        sets = ", ".join(f"{f} = ?" for f in updates)
        store.execute(
            f"UPDATE participants SET {sets} WHERE id = ?", (*updates.values(), row["id"])
        )
    return int(row["id"])


INSERT_DOCUMENT = (
    "INSERT INTO documents (path, source, sha256, format, site, participant_id, wave,"
    " interview_date, consent, text, metadata, run_id, ingested_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SEGMENT = (
    "INSERT INTO segments (document_id, participant_id, speaker, speaker_role, turn_index,"
    ' part, start, "end", text, words, is_interviewer, start_time, end_time)'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def document_row(
    doc: ParsedDocument,
    *,
    sha256: str,
    site: str | None,
    participant_id: int | None,
    run_id: int,
    stamp: str,
) -> tuple:
    """The values of INSERT_DOCUMENT for one document (one definition of the column layout,
    for single inserts and the chunked writer alike)."""
    meta = doc.metadata
    return (
        doc.path,
        doc.source,
        sha256,
        doc.format,
        site,
        participant_id,
        _str_or_none(meta.get("wave")),
        _str_or_none(meta.get("date")),
        meta.get("consent"),
        doc.text,
        json.dumps(meta, sort_keys=True, default=str),
        run_id,
        stamp,
    )


def segment_row(document_id: int, seg: Any, participant_ids: dict[str, int]) -> tuple:
    """The values of INSERT_SEGMENT for one segment."""
    return (
        document_id,
        participant_ids.get(seg.participant) if seg.participant else None,
        seg.speaker,
        seg.speaker_role,
        seg.turn_index,
        seg.part,
        seg.start,
        seg.end,
        seg.text,
        len(seg.text.split()),
        int(seg.is_interviewer),
        seg.start_time,
        seg.end_time,
    )


def insert_document(
    store: Store,
    doc: ParsedDocument,
    *,
    sha256: str,
    site: str | None,
    participant_ids: dict[str, int],
    document_participant: str | None,
    run_id: int,
) -> int:
    participant_id = participant_ids.get(document_participant) if document_participant else None
    cur = store.execute(
        INSERT_DOCUMENT,
        document_row(
            doc,
            sha256=sha256,
            site=site,
            participant_id=participant_id,
            run_id=run_id,
            stamp=now(),
        ),
    )
    document_id = int(cur.lastrowid)
    store.conn.executemany(
        INSERT_SEGMENT, [segment_row(document_id, seg, participant_ids) for seg in doc.segments]
    )
    return document_id


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def count_codings(store: Store, document_ids: list[int]) -> int:
    if not document_ids:
        return 0
    marks = ",".join("?" * len(document_ids))
    return store.execute(
        f"SELECT count(*) FROM codings c JOIN segments s ON s.id = c.segment_id"
        f" WHERE s.document_id IN ({marks})",
        document_ids,
    ).fetchone()[0]


def delete_documents(store: Store, document_ids: list[int]) -> None:
    """Delete documents with their segments and codings (cascade), and orphaned participants."""
    if not document_ids:
        return
    marks = ",".join("?" * len(document_ids))
    store.execute(f"DELETE FROM documents WHERE id IN ({marks})", document_ids)
    store.execute(
        "DELETE FROM participants WHERE id NOT IN"
        " (SELECT participant_id FROM documents WHERE participant_id IS NOT NULL)"
        " AND id NOT IN (SELECT participant_id FROM segments WHERE participant_id IS NOT NULL)"
    )


@dataclass(frozen=True, slots=True)
class SiteSummary:
    site: str
    interviews: int
    responses: int
    participants: int
    segments: int
    respondent_segments: int
    words: int
    codings: dict[str, int]


def summarise(store: Store) -> list[SiteSummary]:
    """Counts per site, for ``qualcode status`` and the run summary."""
    rows = store.execute(
        """
        SELECT coalesce(d.site, '(no site)') AS site,
               count(DISTINCT CASE WHEN d.format != 'csv' THEN d.id END) AS interviews,
               count(DISTINCT CASE WHEN d.format = 'csv' THEN d.id END) AS responses,
               count(DISTINCT coalesce(s.participant_id, d.participant_id)) AS participants,
               count(s.id) AS segments,
               sum(CASE WHEN s.is_interviewer = 0 THEN 1 ELSE 0 END) AS respondent_segments,
               sum(CASE WHEN s.is_interviewer = 0 THEN s.words ELSE 0 END) AS words
        FROM documents d LEFT JOIN segments s ON s.document_id = d.id
        GROUP BY 1 ORDER BY 1
        """
    ).fetchall()
    codings: dict[str, dict[str, int]] = {}
    for r in store.execute(
        # A human coder's codings are all theirs; a machine coder's are its latest run at
        # each site (earlier runs are kept for audit, not counted again).
        """
        WITH latest AS (
            SELECT c.coder_id, coalesce(d.site, '(no site)') AS site, max(c.run_id) AS run
            FROM codings c JOIN segments s ON s.id = c.segment_id
            JOIN documents d ON d.id = s.document_id GROUP BY 1, 2
        )
        SELECT coalesce(d.site, '(no site)') AS site, k.name AS coder, count(*) AS n
        FROM codings c JOIN segments s ON s.id = c.segment_id
        JOIN documents d ON d.id = s.document_id JOIN coders k ON k.id = c.coder_id
        JOIN latest l ON l.coder_id = c.coder_id AND l.site = coalesce(d.site, '(no site)')
        WHERE k.kind = 'human' OR c.run_id = l.run
        GROUP BY 1, 2
        """
    ):
        codings.setdefault(r["site"], {})[r["coder"]] = r["n"]
    return [
        SiteSummary(
            site=r["site"],
            interviews=r["interviews"],
            responses=r["responses"],
            participants=r["participants"],
            segments=r["segments"],
            respondent_segments=r["respondent_segments"] or 0,
            words=r["words"] or 0,
            codings=codings.get(r["site"], {}),
        )
        for r in rows
    ]


def list_documents(store: Store, site: str | None = None) -> list[Any]:
    """Documents with site, participant, group, tier, wave, format and segment count."""
    return store.execute(
        "SELECT d.path, d.site, p.pseudonym, p.stakeholder_group, p.tier, d.wave, d.format,"
        " count(s.id) AS segments"
        " FROM documents d LEFT JOIN participants p ON p.id = d.participant_id"
        " LEFT JOIN segments s ON s.document_id = d.id"
        " WHERE (? IS NULL OR d.site = ?) GROUP BY d.id ORDER BY d.path",
        (site, site),
    ).fetchall()


def document_segments(store: Store, path: str) -> list[Any]:
    """The segments of one document in order, with their ids, for `documents show`."""
    row = store.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()
    if row is None:
        raise InputError(path, "no such document in the project (see 'qualcode documents list')")
    return store.execute(
        'SELECT s.id, s.speaker, s.is_interviewer, s.start, s."end", s.start_time, s.text,'
        " p.pseudonym FROM segments s LEFT JOIN participants p ON p.id = s.participant_id"
        " WHERE s.document_id = ? ORDER BY s.start",
        (row["id"],),
    ).fetchall()


def recent_runs(store: Store, limit: int = 10) -> list[Any]:
    return store.execute(
        "SELECT id, command, version, coder, started_at, finished_at, status FROM runs"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()


def dump(store: Store) -> str:
    """The whole store as SQL text: tests compare it before and after a failed command."""
    return "\n".join(store.conn.iterdump())


@dataclass(frozen=True, slots=True)
class Removal:
    documents: list[str]
    segments: int
    codings: int
    participants: list[str]
    topic_models: int = 0  # topic models fitted on their text, dropped
    outputs: list[str] = field(default_factory=list)  # files to delete once this commits


def find_documents_to_remove(store: Store, paths: list[str], participant: str | None) -> list[Any]:
    """Documents named by path (a survey file's path names all its rows) or by participant."""
    rows: dict[int, Any] = {}
    for path in paths:
        found = store.execute(
            "SELECT id, path, sha256 FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
            (path, len(path) + 1, path + "#"),
        ).fetchall()
        if not found:
            raise InputError(
                path, "no such document in the project (see 'qualcode documents list')"
            )
        rows.update((r["id"], r) for r in found)
    if participant:
        found = store.execute(
            "SELECT DISTINCT d.id, d.path, d.sha256 FROM documents d"
            " LEFT JOIN participants p ON p.id = d.participant_id"
            " WHERE p.pseudonym = ? OR d.id IN (SELECT s.document_id FROM segments s"
            " JOIN participants p2 ON p2.id = s.participant_id WHERE p2.pseudonym = ?)",
            (participant, participant),
        ).fetchall()
        if not found:
            raise InputError(
                None, f"no documents for participant {participant!r}", field="--participant"
            )
        rows.update((r["id"], r) for r in found)
    return sorted(rows.values(), key=lambda r: r["path"])


def remove_documents(store: Store, rows: list[Any], *, reason: str, run_id: int | None) -> Removal:
    """Delete documents with every segment and coding of theirs, and now-orphaned participants.

    Each removed document is remembered by key and content hash (never its text), so that a
    later ingest refuses to bring a withdrawn participant's words back.
    """
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    segments = store.execute(
        f"SELECT count(*) FROM segments WHERE document_id IN ({marks})", ids
    ).fetchone()[0]
    codings = count_codings(store, ids)
    models = drop_topic_models_of(store, ids)
    before = {r[0] for r in store.execute("SELECT pseudonym FROM participants")}
    delete_documents(store, ids)
    after = {r[0] for r in store.execute("SELECT pseudonym FROM participants")}
    store.conn.executemany(
        "INSERT INTO removed_documents (path, sha256, reason, run_id, removed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [(r["path"], r["sha256"], reason, run_id, now()) for r in rows],
    )
    return Removal(
        [r["path"] for r in rows],
        segments,
        codings,
        sorted(before - after),
        topic_models=models,
        outputs=take_outputs(store),
    )


def drop_topic_models_of(store: Store, document_ids: list[int]) -> int:
    """Drop the topic models fitted on these documents' text (their keywords, labels and
    quotes hold it); returns how many."""
    marks = ",".join("?" * len(document_ids))
    models = [
        r[0]
        for r in store.execute(
            "SELECT DISTINCT t.model_id FROM topic_segments ts JOIN topics t ON t.id = ts.topic_id"
            f" JOIN segments s ON s.id = ts.segment_id WHERE s.document_id IN ({marks})",
            document_ids,
        )
    ]
    if models:
        store.execute(
            f"DELETE FROM topic_models WHERE id IN ({','.join('?' * len(models))})", models
        )
    return len(models)


def take_outputs(store: Store) -> list[str]:
    """The recorded output files, forgotten: the caller deletes them once its change commits
    (``delete_outputs``), since every one may hold text that is now gone."""
    outputs = [r[0] for r in store.execute("SELECT DISTINCT path FROM outputs ORDER BY path")]
    store.execute("DELETE FROM outputs")
    return outputs


def record_outputs(store: Store, paths: list[Path], what: str) -> None:
    """Remember files written with transcript text, for removal to reach them."""
    store.conn.executemany(
        "INSERT INTO outputs (path, what, written_at) VALUES (?, ?, ?)",
        [(str(Path(p).resolve()), what, now()) for p in paths],
    )


def delete_outputs(paths: list[str]) -> list[str]:
    """Delete the files a removal reached (after it committed); returns those deleted."""
    deleted = []
    for path in paths:
        try:
            Path(path).unlink()
            deleted.append(path)
        except FileNotFoundError:
            continue
    return deleted


def removed_record(store: Store, key: str, sha256: str) -> Any:
    """The removal of a document with this key or content, if there was one."""
    return store.execute(
        "SELECT path, reason, removed_at FROM removed_documents"
        " WHERE sha256 = ? OR path = ? OR substr(path, 1, ?) = ? ORDER BY id DESC LIMIT 1",
        (sha256, key, len(key) + 1, key + "#"),
    ).fetchone()


def purge_free_pages(store: Store) -> None:
    """Rewrite the file so deleted text does not linger in free pages or the WAL.

    A withdrawn participant's words must really be gone from the project file, not just
    unreachable: VACUUM rebuilds the file, and the checkpoint empties the write-ahead log.
    """
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.execute("VACUUM")
    store.execute("PRAGMA wal_checkpoint(TRUNCATE)")
