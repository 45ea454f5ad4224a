"""``qualcode import FILE.csv``: a tabulated coding (one row per coded passage and code).

Tools and published datasets often give coding as a table: a document (or participant)
column, the passage's text and a code, with a passage on as many rows as it has codes. Each
document becomes a document whose text is its distinct passages in order, one segment each,
separated by blank lines; each distinct code becomes a code (labels that differ only in case
or spacing are one code, named by their commonest spelling) under one family named after the
code column; each row becomes a coding of its passage by ``--coder``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from qualcode.codebook import parse_codebook, store_codebook
from qualcode.coding.project import ImportReport, check_human_name, store_human_codings
from qualcode.coding.spans import DocumentCodings, respondent_segments_of
from qualcode.errors import InputError
from qualcode.interop.codes import slug
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.textio import read_text, text_sha256
from qualcode.types import ParsedDocument, Segment

SEPARATOR = "\n\n"


@dataclass(slots=True)
class TableImport:
    rows: int
    documents: int
    passages: int
    codes_as_written: int
    codes: int
    coder: ImportReport | None = None
    documents_added: int = 0
    warnings: list[str] = field(default_factory=list)


def _fold(code: str) -> str:
    return " ".join(code.split()).casefold()


def read_table(
    path: Path, document_column: str, text_column: str, code_column: str
) -> list[tuple[int, str, str, str]]:
    """(line, document, passage, code) per row; missing columns or empty cells name the line."""
    text = read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [c for c in (document_column, text_column, code_column) if c not in header]
    if missing:
        raise InputError(
            path,
            f"no column {', '.join(map(repr, missing))} (columns: {', '.join(header)}); "
            "name them with --document-column, --text-column and --code-column",
            line=1,
        )
    rows = []
    line = 2
    for row in reader:
        document, passage = (row[document_column] or "").strip(), (row[text_column] or "").strip()
        for name, value in ((document_column, document), (text_column, passage)):
            if not value:
                raise InputError(path, "empty cell", line=line, field=name)
        rows.append((line, document, passage, (row[code_column] or "").strip()))
        line = reader.line_num + 1
    if not rows:
        raise InputError(path, "no rows", line=1)
    return rows


def import_table(
    store: Store,
    path: Path,
    *,
    coder: str,
    document_column: str = "document",
    text_column: str = "text",
    code_column: str = "code",
    site: str | None = None,
) -> TableImport:
    check_human_name(coder)
    rows = read_table(path, document_column, text_column, code_column)
    passages: dict[str, list[str]] = {}
    spellings: dict[str, Counter[str]] = {}
    for _, document, passage, code in rows:
        chunks = passages.setdefault(document, [])
        if passage not in chunks:
            chunks.append(passage)
        if code:
            spellings.setdefault(_fold(code), Counter())[code] += 1
    family = slug(code_column)
    ids: dict[str, str] = {}
    for folded in spellings:
        base, number = f"{family}.{slug(folded)}", 2
        candidate = base
        while candidate in ids.values():
            candidate, number = f"{base}_{number}", number + 1
        ids[folded] = candidate
    book = parse_codebook(
        yaml.safe_dump(
            {
                "name": f"{path.stem} codes",
                "description": f"The codes of column {code_column!r} in {path.name}.",
                "codes": [{"id": family, "label": code_column, "polarity": "neutral"}]
                + [
                    {"id": ids[f], "label": c.most_common(1)[0][0], "polarity": "neutral"}
                    for f, c in spellings.items()
                ],
            },
            sort_keys=False,
            allow_unicode=True,
        )
    )
    result = TableImport(
        rows=len(rows),
        documents=len(passages),
        passages=sum(len(p) for p in passages.values()),
        codes_as_written=len({c for s in spellings.values() for c in s}),
        codes=len(spellings),
    )
    with store.atomic():
        run_id = q.start_run(
            store,
            "import",
            {"file": str(path), "columns": [document_column, text_column, code_column]},
        )
        store_codebook(store, book)
        document_ids = {
            name: _document(store, path, name, chunks, site, run_id, result)
            for name, chunks in passages.items()
        }
        segments = {d: respondent_segments_of(store, d) for d in document_ids.values()}
        offsets = {name: _offsets(chunks) for name, chunks in passages.items()}
        codings: dict[int, DocumentCodings] = {}
        for _, document, passage, code in rows:
            doc_id = document_ids[document]
            start = offsets[document][passage]
            codings.setdefault(doc_id, DocumentCodings(doc_id)).add(
                ids[_fold(code)] if code else None, start, start + len(passage), segments[doc_id]
            )
        result.coder = store_human_codings(
            store,
            coder,
            book,
            list(codings.values()),
            command="import",
            parameters={"file": str(path), "run": run_id},
        )
        q.finish_run(store, run_id)
    return result


def _offsets(chunks: list[str]) -> dict[str, int]:
    """Where each passage starts in the document made of them."""
    out, position = {}, 0
    for chunk in chunks:
        out[chunk] = position
        position += len(chunk) + len(SEPARATOR)
    return out


def _document(
    store: Store,
    path: Path,
    name: str,
    chunks: list[str],
    site: str | None,
    run_id: int,
    result: TableImport,
) -> int:
    text = SEPARATOR.join(chunks)
    key = f"{path.stem}/{name}"
    existing = store.execute("SELECT id, text FROM documents WHERE path = ?", (key,)).fetchone()
    if existing is not None:
        if text_sha256(existing["text"]) != text_sha256(text):
            raise InputError(
                path,
                f"document {key!r} is already in the project with other passages; "
                "remove it first (qualcode documents remove)",
            )
        return int(existing["id"])
    segments, offset = [], 0
    for index, chunk in enumerate(chunks):
        segments.append(
            Segment(
                start=offset, end=offset + len(chunk), text=chunk, speaker=name, turn_index=index
            )
        )
        offset += len(chunk) + len(SEPARATOR)
    doc = ParsedDocument(path=key, source=str(path), format="csv", text=text, segments=segments)
    doc.check_offsets()
    result.documents_added += 1
    return q.insert_document(
        store,
        doc,
        sha256=text_sha256(text),
        site=site,
        participant_ids={},
        document_participant=None,
        run_id=run_id,
    )
