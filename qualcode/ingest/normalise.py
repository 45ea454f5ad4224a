"""Decoding and normalising text, once, before anything is segmented or stored."""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from qualcode.errors import TranscriptError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, path: str | Path) -> str:
    """Decode UTF-8, UTF-8 with BOM or UTF-16 with BOM; refuse anything else.

    Guessing at legacy encodings (cp1252, latin-1) would silently corrupt quotes that later
    appear in reports, so the user is told where the first bad byte is and asked to re-save.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _decode_error(data, exc, path, encoding) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(data, exc, path, "UTF-8") from exc


def _decode_error(
    data: bytes, exc: UnicodeDecodeError, path: str | Path, encoding: str
) -> TranscriptError:
    line = data.count(b"\n", 0, exc.start) + 1
    return TranscriptError(
        path,
        f"byte 0x{data[exc.start]:02x} at offset {exc.start} is not valid {encoding}; "
        "re-save the file as UTF-8",
        line=line,
    )


def normalise(text: str) -> str:
    """Strip a BOM, turn CRLF and CR into LF, and compose Unicode (NFC)."""
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(path, f"cannot read ({exc.strerror})") from exc
    if not data.strip():
        raise TranscriptError(path, "file is empty")
    return normalise(decode(data, path))


def split_front_matter(text: str, path: str | Path) -> tuple[dict[str, Any], str, dict[str, int]]:
    """Split optional YAML front matter (between '---' lines) from the body.

    Returns the metadata, the body, and the line in the file of each metadata field, so that
    a bad value can be reported where it is.
    """
    if not text.startswith("---\n"):
        return {}, text, {}
    end = text.find("\n---\n", 3)
    if end == -1:
        if text.endswith("\n---"):
            end = len(text) - 4
        else:
            raise TranscriptError(path, "front matter opened with '---' is never closed", line=1)
    block = text[4:end]
    try:
        meta = yaml.safe_load(block) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TranscriptError(
            path, f"front matter is not valid YAML ({problem})", line=line
        ) from exc
    if not isinstance(meta, dict):
        raise TranscriptError(path, "front matter must be a mapping of field: value", line=2)
    node = yaml.compose(block, Loader=yaml.SafeLoader)
    lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value} if node else {}
    body_start = min(end + 5, len(text))
    return meta, text[body_start:], lines
