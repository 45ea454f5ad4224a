"""Keeping a project safe: an online backup, and a check of its integrity and consistency."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.errors import InputError
from qualcode.store.db import Store


def backup(store: Store, target: Path) -> int:
    """Copy the project with SQLite's online backup API (safe while others read or write);
    the copy appears whole or not at all. Returns its size in bytes."""
    if target.exists():
        raise InputError(target, "already exists; choose a new name (a backup never overwrites)")
    if not target.parent.is_dir():
        raise InputError(target, f"the folder {target.parent} does not exist")
    partial = target.with_name(target.name + ".partial")
    copy = sqlite3.connect(partial)
    try:
        store.conn.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")
    finally:
        copy.close()
    partial.replace(target)
    return target.stat().st_size


@dataclass(slots=True)
class CheckReport:
    integrity: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)  # table: rows pointing nowhere
    mismatched_segments: list[int] = field(default_factory=list)
    spans_outside: int = 0

    @property
    def ok(self) -> bool:
        return not (
            self.integrity or self.orphans or self.mismatched_segments or self.spans_outside
        )


def check(store: Store) -> CheckReport:
    """SQLite's integrity check, rows whose references point nowhere, segments whose text no
    longer matches their document, and coding spans outside their document."""
    report = CheckReport()
    report.integrity = [
        r[0] for r in store.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"
    ]
    for table, _rowid, parent, _fk in store.execute("PRAGMA foreign_key_check").fetchall():
        report.orphans.append(f"{table} -> {parent}")
    report.mismatched_segments = [
        r[0]
        for r in store.execute(
            "SELECT s.id FROM segments s JOIN documents d ON d.id = s.document_id"
            ' WHERE substr(d.text, s.start + 1, s."end" - s.start) != s.text'
            ' OR s."end" > length(d.text)'
        )
    ]
    report.spans_outside = store.execute(
        "SELECT count(*) FROM coding_spans p JOIN documents d ON d.id = p.document_id"
        ' WHERE p."end" > length(d.text)'
    ).fetchone()[0]
    return report
