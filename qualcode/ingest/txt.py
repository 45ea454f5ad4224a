"""Plain text and Markdown transcripts with speaker labels and optional YAML front matter."""

from __future__ import annotations

from pathlib import Path

from qualcode.errors import TranscriptError
from qualcode.ingest.manifest import FIELDS, validate_fields
from qualcode.ingest.normalise import split_front_matter
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import segment_text
from qualcode.textio import read_text
from qualcode.types import ParsedDocument


def read_txt(path: Path, options: ReadOptions) -> list[ParsedDocument]:
    """Read a ``.txt`` or ``.md`` transcript; the front matter becomes document metadata."""
    text = read_text(path)
    raw_meta, body, raw_lines = split_front_matter(text, path)
    # Field names are case-insensitive ("Tier:" is tier).
    meta = {str(k).strip().lower(): v for k, v in raw_meta.items()}
    lines = {str(k).strip().lower(): v for k, v in raw_lines.items()}
    validate_fields(meta, path, None, lines=lines)
    warnings = [
        f"front matter field {name!r} (line {lines.get(name)}) is not one qualcode knows "
        f"({', '.join(f for f in FIELDS if f != 'file')}); kept as metadata only"
        for name in meta
        if name not in FIELDS
    ]
    if not body.strip():
        raise TranscriptError(path, "no transcript text after the front matter")
    labels = meta.get("interviewer_labels")
    interviewer_labels = (
        tuple(str(x) for x in labels) if isinstance(labels, list) else options.interviewer_labels
    )
    respondent = options.respondent or _str(meta.get("participant"))
    segments, segment_warnings = segment_text(
        body, interviewer_labels=interviewer_labels, respondent=respondent
    )
    return [
        ParsedDocument(
            path=options.key,
            source=str(path),
            format=path.suffix.lower().lstrip("."),
            text=body,
            segments=segments,
            metadata=meta,
            warnings=warnings + segment_warnings,
        )
    ]


def _str(value: object) -> str | None:
    return None if value is None else str(value)
