"""Reading a ``.qdpx`` (a zip) without trusting it.

A project file from elsewhere is untrusted input: its member names are checked for path
traversal and absolute paths, and its sizes for zip bombs (total and per member, and the
compression ratio), before a byte is decompressed. Members are only ever read into memory,
never extracted to disk.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qualcode.errors import InputError

MAX_MEMBER = 256 * 1024 * 1024  # bytes, uncompressed
MAX_TOTAL = 1024 * 1024 * 1024
MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB
MAX_MEMBERS = 100_000


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
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise InputError(path, f"{len(infos)} members: more than {MAX_MEMBERS}")
    total = 0
    names: dict[str, str] = {}
    for info in infos:
        problem = member_problem(info)
        if problem:
            archive.close()
            raise InputError(path, f"member {info.filename!r} {problem}")
        total += info.file_size
        names[info.filename.casefold()] = info.filename
    if total > MAX_TOTAL:
        archive.close()
        raise InputError(path, f"unpacks to {total} bytes, more than {MAX_TOTAL}")
    return Archive(path, archive, names)


def member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member may not be read, or None."""
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if name.startswith(("/", "\\")) or pure.is_absolute() or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in pure.parts:
        return "points outside the archive ('..')"
    if info.file_size > MAX_MEMBER:
        return f"unpacks to {info.file_size} bytes, more than {MAX_MEMBER}"
    if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (
            f"is compressed {info.file_size // max(info.compress_size, 1)} to 1 "
            f"(more than {MAX_RATIO} to 1: a zip bomb?)"
        )
    return None
