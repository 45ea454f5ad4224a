"""Ingest: transcripts and responses in, segments in the project store out.

To add a format, write ``read_<format>(path, options) -> list[ParsedDocument]`` in its own
module and register its extensions in ``READERS``.
"""

from qualcode.ingest.docx import read_docx
from qualcode.ingest.responses import read_csv
from qualcode.ingest.subtitles import read_srt, read_vtt
from qualcode.ingest.txt import read_txt

READERS = {
    ".txt": read_txt,
    ".md": read_txt,
    ".markdown": read_txt,
    ".docx": read_docx,
    ".vtt": read_vtt,
    ".srt": read_srt,
    ".csv": read_csv,
}

from qualcode.ingest.pipeline import IngestReport, ingest, read_documents  # noqa: E402

__all__ = ["READERS", "IngestReport", "ingest", "read_documents"]
