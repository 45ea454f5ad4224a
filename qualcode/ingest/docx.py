"""Word documents: one paragraph per line, speaker labels as text or in bold."""

from __future__ import annotations

import zipfile
from pathlib import Path

from qualcode.errors import TranscriptError
from qualcode.ingest.normalise import normalise
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import segment_text
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

        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TranscriptError(path, f"not a readable .docx file ({exc})") from exc
    except Exception as exc:  # python-docx raises its own PackageNotFoundError and lxml errors
        raise TranscriptError(path, f"not a readable .docx file ({type(exc).__name__})") from exc
    paragraphs: list[str] = []
    bold_labels: set[str] = set()
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        label = _bold_label(paragraph)
        if label is not None:
            bold_labels.add(label)
            rest = text[len(label) :].lstrip()  # text and label both start at the first run
            if label.endswith(":"):
                text = f"{label} {rest}"
            else:
                text = f"{label}: {rest.lstrip(':').lstrip()}"
        paragraphs.append(text)
    body = normalise("\n\n".join(paragraphs))
    if not body.strip():
        raise TranscriptError(path, "the document has no text")
    known = {label.rstrip(":").strip() for label in bold_labels}
    segments, warnings = segment_text(
        body,
        interviewer_labels=options.interviewer_labels,
        known_labels=known,
        respondent=options.respondent,
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
