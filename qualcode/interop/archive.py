"""Reading a ``.qdpx`` (a zip) without trusting it.

A project file from elsewhere is untrusted input: its member names are checked for path
traversal and absolute paths, and its sizes for zip bombs (total and per member, and the
compression ratio), before a byte is decompressed. Members are only ever read into memory,
never extracted to disk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InputError
from qualcode.limits import zip_problem


@dataclass(slots=True)
class Archive:
    """A checked zip: member names looked up exactly or case-insensitively."""

    path: Path
    zip: zipfile.ZipFile
    names: dict[str, str]  # casefolded name -> name as stored

    def find(self, name: str) -> str | None:
        return name if name in self.zip.NameToInfo else self.names.get(name.casefold())

    def read(self, name: str) -> bytes:
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise InputError(self.path, f"member {name!r} is damaged ({exc})") from exc

    def close(self) -> None:
        self.zip.close()


def open_archive(path: Path) -> Archive:
    """Open and check a zip; every problem is an InputError naming the file and the member."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError as exc:
        raise InputError(path, "no such file") from exc
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(path, f"not a REFI-QDA project (not a zip archive: {exc})") from exc
    problem = zip_problem(archive)
    if problem:
        archive.close()
        raise InputError(path, problem)
    names = {info.filename.casefold(): info.filename for info in archive.infolist()}
    return Archive(path, archive, names)
