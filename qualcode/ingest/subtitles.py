"""WebVTT and SubRip captions: cues merged into speaker turns, cue times kept."""

from __future__ import annotations

import re
from pathlib import Path

import webvtt
from webvtt.errors import MalformedFileError

from qualcode.errors import TranscriptError
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import segment_text
from qualcode.textio import read_text
from qualcode.types import ParsedDocument

_PREFIX = re.compile(
    r"^(?P<name>[^\W_][\w.'’&/ +-]{0,40}?(?:[ \t]*\([^()\n]{1,80}\))?)[ \t]*:[ \t]+"
)
_TAG = re.compile(r"</?[^>]+>")
_STAMP = r"(?:\d{1,2}:)?\d{1,2}:\d{2}[.,]\d{3}"
_TIMING = re.compile(rf"^\s*(?P<start>{_STAMP})\s+-->\s+(?P<end>{_STAMP})(?:\s|$)")


def read_vtt(path: Path, options: ReadOptions) -> list[ParsedDocument]:
    return _read_captions(path, options, "vtt")


def read_srt(path: Path, options: ReadOptions) -> list[ParsedDocument]:
    return _read_captions(path, options, "srt")


def _read_captions(path: Path, options: ReadOptions, fmt: str) -> list[ParsedDocument]:
    """Read captions; consecutive cues of one speaker become one turn.

    The speaker is the cue's ``<v Name>`` voice tag or a ``Name:`` prefix; a cue with neither
    continues the previous speaker, as captioning tools only mark changes of speaker.
    """
    text = read_text(path)
    _check_timings(text, path)
    try:
        if fmt == "vtt":
            captions = webvtt.from_string(text).captions
        else:
            captions = webvtt.from_buffer(text.splitlines(), format="srt").captions
    except MalformedFileError as exc:
        raise TranscriptError(path, f"not a valid {fmt.upper()} file ({exc})") from exc
    turns: list[tuple[str | None, list[str], float, float]] = []
    for caption in captions:
        speaker, words = _speaker_and_text(caption)
        if not words:
            continue
        if turns and (speaker is None or speaker == turns[-1][0]):
            prev_speaker, chunks, start, _ = turns[-1]
            chunks.append(words)
            turns[-1] = (prev_speaker, chunks, start, _seconds(caption.end))
        else:
            turns.append((speaker, [words], _seconds(caption.start), _seconds(caption.end)))
    if not turns:
        raise TranscriptError(path, f"the {fmt.upper()} file has no caption text")
    # Rebuild the conversation in the plain-text convention so one set of turn rules applies;
    # the turn index of each block is known, so cue times can be attached exactly.
    blocks, times, known = [], {}, set()
    for index, (speaker, chunks, start, end) in enumerate(turns):
        body = " ".join(chunks)
        if speaker:
            known.add(speaker)
            blocks.append(f"{speaker}: {body}")
        else:
            blocks.append(body)
        times[index] = (start, end)
    document_text = "\n\n".join(blocks)
    segments, warnings = segment_text(
        document_text,
        interviewer_labels=options.interviewer_labels,
        known_labels=known,
        respondent=options.respondent,
        times=times,
        paragraph_labels=False,  # blank lines here are the reader's, not the transcriber's
    )
    return [
        ParsedDocument(
            path=options.key,
            source=str(path),
            format=fmt,
            text=document_text,
            segments=segments,
            metadata={},
            warnings=warnings,
        )
    ]


def _check_timings(text: str, path: Path) -> None:
    """Name the first malformed cue timing line; webvtt-py would silently drop the cue."""
    for number, line in enumerate(text.splitlines(), start=1):
        if "-->" not in line:
            continue
        m = _TIMING.match(line)
        if m is None:
            raise TranscriptError(path, f"malformed cue timing {line.strip()!r}", line=number)
        if _seconds(m.group("end")) < _seconds(m.group("start")):
            raise TranscriptError(path, "cue ends before it starts", line=number)


def _seconds(stamp: str) -> float:
    # webvtt-py's *_in_seconds drop the milliseconds; parse "hh:mm:ss.mmm" ourselves.
    total = 0.0
    for part in stamp.replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return round(total, 3)


def _speaker_and_text(caption) -> tuple[str | None, str]:
    speaker = caption.voice.strip() if getattr(caption, "voice", None) else None
    lines = [_TAG.sub("", line).strip() for line in caption.text.splitlines()]
    words = " ".join(line for line in lines if line)
    if speaker is None:
        m = _PREFIX.match(words)
        if m:
            speaker = m.group("name").strip()
            words = words[m.end() :]
    return speaker, words.strip()
