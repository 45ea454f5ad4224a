"""Options every reader accepts."""

from __future__ import annotations

from dataclasses import dataclass, field

from qualcode.ingest.turns import DEFAULT_INTERVIEWER_LABELS


@dataclass(slots=True)
class ReadOptions:
    """How to read one file: what its key is, who the respondent is, and format options."""

    key: str  # the document path users see (relative to the ingested folder)
    respondent: str | None = None  # participant pseudonym, when a manifest or front matter names it
    interviewer_labels: tuple[str, ...] = DEFAULT_INTERVIEWER_LABELS
    text_column: str | None = None  # csv only
    id_column: str | None = None  # csv only
    defaults: dict[str, object] = field(default_factory=dict)  # csv only: metadata for every row
