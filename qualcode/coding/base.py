"""What every coder returns: codes with confidence and evidence, never bare labels."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Evidence(NamedTuple):
    """Why a code was given: a span of the segment (characters, end exclusive) and a reason.
    (A named tuple: a coder makes one for each span it finds, and a frozen dataclass took four
    times as long to make.)"""

    start: int
    end: int
    why: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "why": self.why}


def evidence_json(evidence: list[Evidence], quoted: dict[str, str]) -> str:
    """``json.dumps([e.as_dict() for e in evidence])``, character for character, with each
    reason quoted once (``quoted``, kept by the caller): a run gives the same few hundred
    reasons to a hundred thousand codings."""
    parts = []
    for start, end, why in evidence:
        text = quoted.get(why)
        if text is None:
            text = quoted[why] = json.dumps(why)
        parts.append(f'{{"start": {int(start)}, "end": {int(end)}, "why": {text}}}')
    return "[" + ", ".join(parts) + "]"


@dataclass(slots=True)
class Assignment:
    """One code given to one segment by a machine coder."""

    code: str
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)


def segment_texts(segments: list[Any]) -> list[str]:
    """Accept plain strings or objects with a ``text`` attribute (stored segments)."""
    return [s if isinstance(s, str) else s.text for s in segments]
