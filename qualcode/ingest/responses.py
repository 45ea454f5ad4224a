"""CSV files of open-ended survey or consultation responses: one document per response."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from qualcode.errors import TranscriptError
from qualcode.ingest.options import ReadOptions
from qualcode.textio import read_lines
from qualcode.types import ParsedDocument, Segment

# Tried in order when --text-column is not given.
TEXT_COLUMN_GUESSES = (
    "response",
    "text",
    "answer",
    "comment",
    "comments",
    "quote",
    "quotation",
    "excerpt",
    "statement",
)
# Columns that describe the respondent rather than the response.
PARTICIPANT_COLUMNS = {
    "participant": "participant",
    "pseudonym": "participant",
    "site": "site",
    "stakeholder_group": "stakeholder_group",
    "group": "stakeholder_group",
    "role": "role",
    "organisation": "organisation",
    "organization": "organisation",
    "tier": "tier",
}


def _column(header: list[str], wanted: str) -> str:
    """The header's spelling of a column named case-insensitively."""
    for column in header:
        if column == wanted:
            return column
    for column in header:
        if column.strip().casefold() == wanted.strip().casefold():
            return column
    return wanted


def _columns(header: list[str], options: ReadOptions, path: Path) -> tuple[str, str | None]:
    """The response column and the id column, checked against the header."""
    folded = {c.strip().casefold(): c for c in header}
    if options.text_column:
        text_column = _column(header, options.text_column)
    else:
        text_column = next((folded[g] for g in TEXT_COLUMN_GUESSES if g in folded), None)
    if text_column is None:
        raise TranscriptError(
            path,
            f"no response column found (looked for {', '.join(TEXT_COLUMN_GUESSES)}); name it "
            f"with --text-column; columns are {', '.join(header)}",
            line=1,
        )
    if text_column not in header:
        raise TranscriptError(
            path,
            f"no column {options.text_column!r}; columns are {', '.join(header)}",
            line=1,
            field="--text-column",
        )
    id_column = _column(header, options.id_column) if options.id_column else None
    if options.id_column and id_column not in header:
        raise TranscriptError(
            path,
            f"no column {options.id_column!r}; columns are {', '.join(header)}",
            line=1,
            field="--id-column",
        )
    return text_column, id_column


def read_csv(path: Path, options: ReadOptions) -> list[ParsedDocument]:
    """Read one response per row; the other columns become metadata.

    Each response is its own document (``survey.csv#S001``) with one respondent segment, so a
    response belongs to a site and a respondent just as an interview does.
    """
    return list(iter_csv(path, options))


def iter_csv(path: Path, options: ReadOptions) -> Iterator[ParsedDocument]:
    """``read_csv`` one response at a time, for ingest to write in chunks as it reads.

    Errors are raised when their row is reached. A count of empty responses is added to the
    first document's warnings once the whole file has been read.
    """
    # read a line at a time: a national consultation's CSV can be larger than memory allows
    reader = csv.DictReader(read_lines(path))
    header = reader.fieldnames or []
    if not header:
        raise TranscriptError(path, "no header row", line=1)
    text_column, id_column = _columns(header, options, path)
    first: ParsedDocument | None = None
    seen: dict[str, int] = {}
    skipped = 0
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                raise TranscriptError(path, "more fields than the header has", line=line)
            response = (row.get(text_column) or "").strip()
            if not response:
                skipped += 1
                continue
            row_id = (row.get(id_column) or "").strip() if id_column else ""
            row_id = row_id or f"row{line}"
            if row_id in seen:
                raise TranscriptError(
                    path,
                    f"id {row_id!r} repeats line {seen[row_id]}",
                    line=line,
                    field=id_column,
                )
            seen[row_id] = line
            meta: dict[str, object] = dict(options.defaults)
            for column, value in row.items():
                if column != text_column and value not in (None, ""):
                    name = column.strip()
                    meta[PARTICIPANT_COLUMNS.get(name.casefold(), name)] = value.strip()
            # Respondent ids are only unique within one survey file: "row2" or "17" in two
            # files are two people, so the pseudonym carries the file's name unless a
            # participant column gives real project-wide pseudonyms.
            meta["participant"] = meta.get("participant") or f"{path.stem}:{row_id}"
            meta["csv_line"] = line
            doc = ParsedDocument(
                path=f"{options.key}#{row_id}",
                source=str(path),
                format="csv",
                text=response,
                segments=[
                    Segment(
                        start=0,
                        end=len(response),
                        text=response,
                        speaker=str(meta["participant"]),
                        participant=str(meta["participant"]),
                    )
                ],
                metadata=meta,
            )
            first = first or doc
            yield doc
    except csv.Error as exc:
        raise TranscriptError(path, f"malformed CSV ({exc})", line=reader.line_num) from exc
    if first is None:
        raise TranscriptError(path, f"no responses in column {text_column!r}")
    if skipped:
        first.warnings.append(f"{skipped} empty response(s) in {path.name} skipped")
