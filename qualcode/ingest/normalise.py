"""YAML front matter of transcripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from qualcode.errors import TranscriptError
from qualcode.textio import check_yaml, yaml_problem


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
        check_yaml(block, path, first_line=2)
        meta = yaml.safe_load(block) or {}
    except yaml.YAMLError as exc:
        problem, line = yaml_problem(exc, first_line=2)  # the block starts on line 2
        raise TranscriptError(
            path, f"front matter is not valid YAML ({problem})", line=line
        ) from exc
    if not isinstance(meta, dict):
        raise TranscriptError(path, "front matter must be a mapping of field: value", line=2)
    node = yaml.compose(block, Loader=yaml.SafeLoader)
    lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value} if node else {}
    body_start = min(end + 5, len(text))
    return meta, text[body_start:], lines
