"""Keeping codebooks in the project store, by content hash."""

from __future__ import annotations

import json
import os
from pathlib import Path

from qualcode.codebook.load import parse_codebook
from qualcode.codebook.model import Codebook
from qualcode.store import Store
from qualcode.store.queries import now


def store_codebook(store: Store, codebook: Codebook) -> int:
    """Return the id of this codebook in the store, adding it (and its codes) if new.

    Codebooks are kept by content hash: an edited codebook is a new row, and codings made
    with the old one keep pointing at the old codes, so earlier runs stay auditable.
    """
    row = store.execute("SELECT id FROM codebooks WHERE hash = ?", (codebook.hash,)).fetchone()
    if row:
        return int(row["id"])
    with store.atomic():
        cur = store.execute(
            "INSERT INTO codebooks (hash, name, version, source, content, parsed, loaded_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                codebook.hash,
                codebook.name,
                codebook.version,
                _portable(store, codebook.path),
                codebook.text,
                json.dumps(codebook.raw, default=str) if codebook.raw is not None else None,
                now(),
            ),
        )
        codebook_id = int(cur.lastrowid)
        store.conn.executemany(
            "INSERT INTO codes (codebook_id, code, parent, family, label, polarity, definition)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (codebook_id, c.id, c.parent, c.family, c.label, c.polarity, c.definition)
                for c in codebook.codes.values()
            ],
        )
    return codebook_id


def _portable(store: Store, path: Path | None) -> str | None:
    """The codebook file's path relative to the project's folder where it can be (else
    absolute): the store records where a codebook came from without tying it to one machine."""
    if path is None:
        return None
    try:
        return os.path.relpath(path, store.path.resolve().parent)
    except ValueError:  # another drive on Windows
        return str(path)


def code_ids(store: Store, codebook_id: int) -> dict[str, int]:
    """Map code id ('financial.pooled_budget') to its row id for one stored codebook."""
    return {
        r["code"]: r["id"]
        for r in store.execute("SELECT id, code FROM codes WHERE codebook_id = ?", (codebook_id,))
    }


def load_stored_codebook(store: Store, codebook_id: int | None = None) -> Codebook | None:
    """A codebook from the store (the most recently added one by default)."""
    row = store.execute(
        "SELECT content, parsed, source FROM codebooks WHERE (? IS NULL OR id = ?)"
        " ORDER BY id DESC LIMIT 1",
        (codebook_id, codebook_id),
    ).fetchone()
    if row is None:
        return None
    # Sources are kept relative to the project's folder (older stores: absolute), so a project
    # folder moved or copied elsewhere still finds a codebook's training files beside it.
    source = store.path.parent / row["source"] if row["source"] else None
    raw = json.loads(row["parsed"]) if row["parsed"] else None
    return parse_codebook(row["content"], source, raw=raw)
