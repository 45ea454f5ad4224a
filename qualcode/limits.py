"""Limits on untrusted input, each with a default and an environment variable to raise it.

A file from elsewhere can be built to exhaust memory or time (a YAML "billion laughs", a zip
bomb inside a .docx, a 50 MB line). Every such limit lives here, and the error that enforces
one names the limit and the variable that raises it.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # environment variable
    default: int
    what: str  # what is counted, for the message

    @property
    def value(self) -> int:
        raw = os.environ.get(self.name, "")
        try:
            return int(raw) if raw.strip() else self.default
        except ValueError:
            return self.default

    def exceeded(self, found: int | str) -> str:
        """The error text: what was found, the limit, and how to raise it."""
        return (
            f"{found} {self.what}: more than the limit of {self.value} "
            f"(set {self.name} to raise it)"
        )


YAML_ALIASES = Limit("QUALCODE_MAX_YAML_ALIASES", 100, "YAML aliases (*name)")
YAML_CHARACTERS = Limit("QUALCODE_MAX_YAML_CHARS", 5_000_000, "characters of YAML")
YAML_VALUES = Limit("QUALCODE_MAX_YAML_VALUES", 1_000_000, "values once YAML aliases are expanded")
FILE_BYTES = Limit("QUALCODE_MAX_FILE_BYTES", 100_000_000, "bytes in one file")
# A CSV of responses is read a line at a time (textio.read_lines), never held whole.
STREAMED_BYTES = Limit("QUALCODE_MAX_STREAMED_BYTES", 4_000_000_000, "bytes in one CSV file")
LINE_CHARACTERS = Limit("QUALCODE_MAX_LINE_CHARS", 5_000_000, "characters on one line")
TURNS = Limit("QUALCODE_MAX_TURNS", 100_000, "speaker turns in one file")
ZIP_MEMBER_BYTES = Limit("QUALCODE_MAX_ZIP_MEMBER_BYTES", 256_000_000, "bytes in one zip member")
ZIP_TOTAL_BYTES = Limit("QUALCODE_MAX_ZIP_BYTES", 1_000_000_000, "bytes unpacked")
ZIP_RATIO = Limit("QUALCODE_MAX_ZIP_RATIO", 200, "to 1 compression ratio (a zip bomb?)")
ZIP_MEMBERS = Limit("QUALCODE_MAX_ZIP_MEMBERS", 100_000, "members in one zip")


def zip_problem(archive: zipfile.ZipFile) -> str | None:
    """Why a zip (a .docx, a .qdpx) may not be read, checked before a byte is unpacked: too
    many members, a member that would unpack outside (``..``, an absolute name), or sizes and
    compression ratios of a zip bomb. None if it may be read."""
    infos = archive.infolist()
    if len(infos) > ZIP_MEMBERS.value:
        return ZIP_MEMBERS.exceeded(len(infos))
    total = 0
    for info in infos:
        name = info.filename
        pure = PurePosixPath(name.replace("\\", "/"))
        where = f"member {name!r}: "
        if name.startswith(("/", "\\")) or pure.is_absolute() or (len(name) > 1 and name[1] == ":"):
            return where + "has an absolute path"
        if ".." in pure.parts:
            return where + "points outside the archive ('..')"
        if info.file_size > ZIP_MEMBER_BYTES.value:
            return where + ZIP_MEMBER_BYTES.exceeded(info.file_size)
        ratio = info.file_size // max(info.compress_size, 1)
        if info.file_size > 1_000_000 and ratio > ZIP_RATIO.value:
            return where + ZIP_RATIO.exceeded(ratio)
        total += info.file_size
    if total > ZIP_TOTAL_BYTES.value:
        return ZIP_TOTAL_BYTES.exceeded(total)
    return None
