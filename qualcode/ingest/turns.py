"""Speaker-turn segmentation of labelled text, shared by every transcript reader.

A turn starts at a line that begins with a speaker label and a colon (``Interviewer:``,
``P3:``, ``HOL-03 (joint commissioning manager):``, Markdown ``**Moderator:**``) and runs to the
next label. To keep ordinary sentences such as ``The problem was this: ...`` from being taken
for speakers, a label counts only if it is a known interviewer label, was named by the caller,
contains a digit, carries a bracketed role, or begins two or more lines of the document.

One more place marks a speaker: a paragraph that opens with a name and a colon inside an
interviewer's turn (``Interviewer: Tell me.`` a blank line, then ``Manager: ... funding was
cut.``). An interviewer's question is rarely followed by more paragraphs of the interviewer's
own, so such a label is the answer's speaker even if it occurs only once; without this the
answer is swallowed into the question and never coded. The name must look like one (it starts
with a capital letter, has at most three words, and is not a note, a prompt or a sentence
opening such as ``Note:``, ``Probe:`` or ``The point:``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from qualcode.types import Segment

DEFAULT_INTERVIEWER_LABELS = (
    "interviewer",
    "int",
    "i",
    "q",
    "facilitator",
    "moderator",
    "researcher",
    "evaluator",
)
# A turn longer than this is split at paragraph breaks into parts of about PART_TARGET_CHARS:
# long monologues otherwise drown a code in one huge unit and skew per-segment statistics.
MAX_TURN_CHARS = 2000
PART_TARGET_CHARS = 1200

_TIME = r"(?:[\[(]?(?P<time>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?)[\])]?[ \t]+)?"
_NAME = r"[^\W_][\w.'’&/+-]*(?:[ \t]+[\w.'’&/+-]+){0,4}"
_ROLE = r"(?:[ \t]*\((?P<role>[^()\n]{1,80})\))?"
LABEL_RE = re.compile(
    rf"^[ \t]*{_TIME}(?P<bold>\*\*)?(?P<label>(?P<name>{_NAME}){_ROLE})[ \t]*"
    rf"(?:(?(bold)\*\*):(?(bold)|(?:\*\*)?)|:(?(bold)\*\*))(?:[ \t]+|$)",
    re.MULTILINE,
)
_PARA_BREAK = re.compile(r"\n[ \t]*\n")
# First words of a paragraph-opening "Word:" that is a transcriber's note, an interview-guide
# line or a sentence rather than a speaker (see find_turns).
# fmt: off
NOT_SPEAKER_WORDS = frozenset({
    "note", "notes", "nb", "n.b.", "ps", "p.s.", "comment", "comments", "aside",
    "transcriber", "transcriber's", "translator", "translator's", "editor", "editor's",
    "source", "sources", "example", "examples", "e.g.", "i.e.", "eg", "ie", "update", "edit",
    "summary", "context", "background", "prompt", "prompts", "probe", "probes", "follow-up",
    "followup", "question", "questions", "answer", "scenario", "vignette", "card", "showcard",
    "quote", "quotation", "definition", "reminder", "warning", "important", "caveat", "tip",
    "key", "step", "steps", "task", "topic", "section", "part", "theme", "item", "agenda",
    "date", "time", "location", "venue", "present", "attendees", "duration", "recording",
    "tape", "audio", "file", "pause", "inaudible", "crosstalk", "laughter", "the", "a", "an",
    "this", "that", "these", "those", "my", "our", "your", "his", "her", "their", "its", "it",
    "there", "here", "what", "which", "who", "why", "how", "when", "where", "so", "and",
    "but", "or", "then", "now", "well", "yes", "no", "ok", "okay", "one", "two", "first",
    "second", "third", "also", "again",
})
# fmt: on


def _headings_only(text: str) -> bool:
    """True if every line is blank or a Markdown heading. (A regex for this, with a repeated
    group of optional parts, backtracked exponentially on lines that begin with spaces.)"""
    return all(
        not line.strip(" \t") or line.lstrip(" \t").startswith("#") for line in text.split("\n")
    )


@dataclass(frozen=True, slots=True)
class Turn:
    """A speaker turn as found in the text: the label and the span of what was said."""

    label: str | None
    name: str | None
    role: str | None
    start: int
    end: int
    time: float | None = None


def _seconds(stamp: str | None) -> float | None:
    if not stamp:
        return None
    parts = [float(p.replace(",", ".")) for p in stamp.split(":")]
    total = 0.0
    for p in parts:
        total = total * 60 + p
    return total


def _is_interviewer(name: str | None, interviewer_labels: set[str]) -> bool:
    if not name:
        return False
    key = name.casefold().strip()
    return key in interviewer_labels or key.rstrip("0123456789 ").strip() in interviewer_labels


def _opens_paragraph(text: str, pos: int) -> bool:
    """True if the line starting at ``pos`` follows a blank line."""
    if pos == 0 or text[pos - 1] != "\n":
        return False
    i = pos - 2
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i >= 0 and text[i] == "\n"


def _looks_like_a_name(name: str) -> bool:
    """A speaker's name or role (``Manager``, ``Team leader``), not ``Note`` or ``The point``."""
    words = name.split()
    return (
        len(words) <= 3
        and words[0][0].isupper()
        and words[0].casefold().replace("’", "'").rstrip(".,;") not in NOT_SPEAKER_WORDS
    )


def find_turns(
    text: str,
    *,
    interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
    known_labels: Iterable[str] = (),
    paragraph_labels: bool = True,
) -> list[Turn]:
    """Return the turns of ``text`` in order; text before the first label is an unlabelled turn.

    ``paragraph_labels`` turns on the rule for a once-only label that opens a paragraph inside
    an interviewer's turn; readers whose blank lines are not the transcriber's (``.docx``
    paragraphs, caption cues) turn it off.
    """
    interviewers = {label.casefold() for label in interviewer_labels}
    known = {label.casefold() for label in known_labels}
    candidates = list(LABEL_RE.finditer(text))
    counts = Counter(m.group("label").casefold() for m in candidates)
    accepted: list[re.Match[str]] = []
    in_interviewer_turn = False
    for m in candidates:
        name = m.group("name")
        if (
            _is_interviewer(name, interviewers)
            or m.group("label").casefold() in known
            or name.casefold() in known
            or any(ch.isdigit() for ch in name)
            or m.group("role")
            or counts[m.group("label").casefold()] >= 2
            or (
                paragraph_labels
                and in_interviewer_turn
                and _opens_paragraph(text, m.start())
                and _looks_like_a_name(name)
            )
        ):
            accepted.append(m)
            in_interviewer_turn = _is_interviewer(name, interviewers)
    turns: list[Turn] = []
    first = accepted[0].start() if accepted else len(text)
    # A Markdown title above the first turn is not talk.
    if not _headings_only(text[:first]):
        turns.append(_trimmed(text, None, None, None, 0, first, None))
    for i, m in enumerate(accepted):
        end = accepted[i + 1].start() if i + 1 < len(accepted) else len(text)
        turns.append(
            _trimmed(
                text,
                m.group("label"),
                m.group("name"),
                m.group("role"),
                m.end(),
                end,
                _seconds(m.group("time")),
            )
        )
    return [t for t in turns if t.end > t.start]


def _trimmed(
    text: str,
    label: str | None,
    name: str | None,
    role: str | None,
    start: int,
    end: int,
    time: float | None,
) -> Turn:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Turn(label, name, role.strip() if role else None, start, end, time)


def _speaker_names(turns: list[Turn]) -> dict[str | None, str | None]:
    """Map each label to a speaker key.

    ``HOL-03 (joint commissioning manager)`` and later ``HOL-03`` are one speaker; but
    ``Team leader (health)`` and ``Team leader (social care)`` are two, so a bracketed role is
    dropped from the key only when the bare name also occurs or looks like an identifier.
    """
    bare = {t.name.casefold() for t in turns if t.name and not t.role}
    mapping: dict[str | None, str | None] = {None: None}
    for t in turns:
        if t.label is None or t.name is None:
            continue
        if t.role and not (t.name.casefold() in bare or any(c.isdigit() for c in t.name)):
            mapping[t.label] = " ".join(t.label.split())
        else:
            mapping[t.label] = " ".join(t.name.split())
    return mapping


def split_parts(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split a long span at paragraph breaks into parts of roughly PART_TARGET_CHARS."""
    if end - start <= MAX_TURN_CHARS:
        return [(start, end)]
    paragraphs: list[tuple[int, int]] = []
    pos = start
    for m in _PARA_BREAK.finditer(text, start, end):
        paragraphs.append((pos, m.start()))
        pos = m.end()
    paragraphs.append((pos, end))
    parts: list[tuple[int, int]] = []
    cur_start, cur_end = paragraphs[0]
    for p_start, p_end in paragraphs[1:]:
        if p_end - cur_start > PART_TARGET_CHARS and cur_end > cur_start:
            parts.append((cur_start, cur_end))
            cur_start = p_start
        cur_end = p_end
    parts.append((cur_start, cur_end))
    return [(s, e) for s, e in parts if e > s]


def segment_text(
    text: str,
    *,
    interviewer_labels: Iterable[str] = DEFAULT_INTERVIEWER_LABELS,
    known_labels: Iterable[str] = (),
    respondent: str | None = None,
    times: dict[int, tuple[float | None, float | None]] | None = None,
    paragraph_labels: bool = True,
) -> tuple[list[Segment], list[str]]:
    """Segment labelled text into speaker turns; return segments and warnings.

    ``respondent`` is the document's participant pseudonym: non-interviewer turns are linked to
    it when their speaker is that pseudonym, unlabelled, or the only respondent voice.
    ``times`` maps a turn index to (start, end) seconds, for subtitle formats.
    ``paragraph_labels`` is as for :func:`find_turns`.
    """
    interviewer_labels = tuple(interviewer_labels)
    turns = find_turns(
        text,
        interviewer_labels=interviewer_labels,
        known_labels=known_labels,
        paragraph_labels=paragraph_labels,
    )
    warnings: list[str] = []
    if not turns:
        return [], warnings
    interviewers = {label.casefold() for label in interviewer_labels}
    if all(t.label is None for t in turns):
        warnings.append("no speaker labels found: the whole text is one respondent turn")
    elif turns[0].label is None:
        warnings.append(
            f"{turns[0].end - turns[0].start} characters before the first speaker label "
            "are treated as respondent talk"
        )
    names = _speaker_names(turns)
    respondent_voices = {
        names[t.label] for t in turns if not _is_interviewer(t.name, interviewers)
    } - {None}
    single_voice = len(respondent_voices) <= 1
    segments: list[Segment] = []
    for index, turn in enumerate(turns):
        interviewer = _is_interviewer(turn.name, interviewers)
        speaker = names[turn.label]
        participant = None
        if (
            respondent
            and not interviewer
            and (speaker is None or single_voice or speaker.casefold() == respondent.casefold())
        ):
            participant = respondent
        start_time, end_time = (times or {}).get(index, (turn.time, None))
        for part, (s, e) in enumerate(split_parts(text, turn.start, turn.end)):
            segments.append(
                Segment(
                    start=s,
                    end=e,
                    text=text[s:e],
                    speaker=speaker,
                    speaker_role=turn.role,
                    is_interviewer=interviewer,
                    turn_index=index,
                    part=part,
                    start_time=start_time,
                    end_time=end_time,
                    participant=participant,
                )
            )
    return segments, warnings
