"""Plain data types shared by every stage. No I/O here.

Offsets are characters: ``start`` and ``end`` index ``Document.text``, end exclusive, as spaCy's
``Span.start_char``/``end_char`` do. A segment's text is always ``document.text[start:end]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TIERS = ("strategic", "operational", "frontline", "user")
CONSENT_VALUES = ("given", "pending", "withdrawn")
# Names of an adjudicated human coder: the reference for audits, themes and the report.
REFERENCE_CODERS = ("gold", "consensus", "adjudicated")


@dataclass(slots=True)
class Participant:
    """A person interviewed or surveyed, known by a pseudonym only."""

    pseudonym: str
    site: str | None = None
    stakeholder_group: str | None = None
    role: str | None = None
    organisation: str | None = None
    tier: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Segment:
    """One unit of analysis: a speaker turn (or a paragraph-bounded part of a long turn)."""

    start: int
    end: int
    text: str
    speaker: str | None = None
    speaker_role: str | None = None
    is_interviewer: bool = False
    turn_index: int = 0
    part: int = 0
    start_time: float | None = None
    end_time: float | None = None
    participant: str | None = None  # pseudonym, resolved to an id by the store

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad segment offsets {self.start}..{self.end}")


@dataclass(slots=True)
class ParsedDocument:
    """A document as a reader produced it, before it is stored."""

    path: str  # the key users see: relative to the ingested folder, '#row' for survey rows
    source: str  # the file it came from
    format: str
    text: str
    segments: list[Segment]
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def check_offsets(self) -> None:
        """Raise ``ValueError`` unless every segment is exactly its slice of ``text``."""
        for seg in self.segments:
            if self.text[seg.start : seg.end] != seg.text:
                raise ValueError(f"{self.path}: segment {seg.start}..{seg.end} does not match text")
