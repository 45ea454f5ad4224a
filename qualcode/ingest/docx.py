"""Word documents: one paragraph per line, speaker labels as text or in bold."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

from qualcode.errors import TranscriptError
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import segment_text
from qualcode.limits import zip_problem
from qualcode.textio import normalise
from qualcode.types import ParsedDocument

# A bold run at the start of a paragraph longer than this is emphasis, not a speaker name.
MAX_BOLD_LABEL_CHARS = 60


def read_docx(path: Path, options: ReadOptions) -> list[ParsedDocument]:
    """Read a ``.docx`` transcript.

    The stored text is the document's paragraphs separated by blank lines. A paragraph that
    opens with a bold name (``**Interviewer** How did...``) gets the colon the text convention
    expects, so the same turn rules apply as for plain text.
    """
    try:
        import docx  # python-docx; imported here so other formats do not pay for it

        with zipfile.ZipFile(path) as archive:
            problem = zip_problem(archive)
        if problem:
            raise TranscriptError(path, f"refused: {problem}")
        document = docx.Document(str(path))
    except TranscriptError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TranscriptError(path, f"not a readable .docx file ({exc})") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise TranscriptError(path, f"not a readable .docx file ({type(exc).__name__})") from exc
    # First pass: which bold openings are speaker names. A bold word that opens a paragraph
    # only once ("**Important** point: ...") is emphasis, not a speaker; a name is one that
    # recurs, ends in a colon, or looks like an identifier or an interviewer label.
    items: list[tuple[str, str | None]] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        if paragraph.style is not None and paragraph.style.name.lower().startswith(
            ("heading", "title")
        ):
            items.append((f"# {text}", None))  # a heading: ignored above the first turn
            continue
        items.append((text, _bold_label(paragraph)))
    counts = Counter(label.rstrip(":").strip() for _, label in items if label)
    interviewers = {x.casefold() for x in options.interviewer_labels}
    known = {
        name
        for name in counts
        if counts[name] >= 2
        or any(ch.isdigit() for ch in name)
        or "(" in name
        or name.casefold() in interviewers
    } | {label.rstrip(":").strip() for _, label in items if label and label.endswith(":")}
    paragraphs: list[str] = []
    for text, label in items:
        name = label.rstrip(":").strip() if label else None
        if name in known:
            rest = text[len(label) :].lstrip()  # text and label both start at the first run
            text = f"{name}: {rest.lstrip(':').lstrip()}"
        paragraphs.append(text)
    body = normalise("\n\n".join(paragraphs))
    if not body.strip():
        raise TranscriptError(path, "the document has no text")
    segments, warnings = segment_text(
        body,
        interviewer_labels=options.interviewer_labels,
        known_labels=known,
        respondent=options.respondent,
        paragraph_labels=False,  # blank lines here are the reader's, not the transcriber's
    )
    return [
        ParsedDocument(
            path=options.key,
            source=str(path),
            format="docx",
            text=body,
            segments=segments,
            metadata={},
            warnings=warnings,
        )
    ]


def _bold_label(paragraph) -> str | None:
    """The bold text a paragraph starts with, if it is short enough to be a name."""
    label = ""
    for run in paragraph.runs:
        if not run.text:
            continue
        if run.bold:
            label += run.text
        else:
            break
    label = label.strip()
    if not label or len(label) > MAX_BOLD_LABEL_CHARS or label == paragraph.text.strip():
        return None
    return label
