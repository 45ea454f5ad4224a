"""User-facing errors.

Every error a user can cause is a :class:`QualcodeError` whose ``str`` is one line naming the
file and the line or field at fault. Library code raises these and never prints or exits; the CLI
boundary (``qualcode.cli._util.error_boundary``) prints ``Error: <message>`` and exits with
``exit_code``. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class QualcodeError(Exception):
    """Base class of errors caused by input or usage, not by a bug."""

    exit_code = 1


def _where(path: str | Path | None, line: int | None = None, field: str | None = None) -> str:
    parts = [str(path)] if path is not None else []
    if line is not None:
        parts.append(str(line))
    where = ":".join(parts)
    if field:
        where = f"{where}: {field}" if where else field
    return where


class InputError(QualcodeError):
    """A file given to qualcode cannot be used; names the file and the line or field."""

    def __init__(
        self,
        path: str | Path | None,
        reason: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        self.reason = reason
        where = _where(path, line, field)
        super().__init__(f"{where}: {reason}" if where else reason)


class TranscriptError(InputError):
    """A transcript or response file is unreadable, empty or malformed."""


class ManifestError(InputError):
    """A manifest entry is invalid or points at a missing file."""


class CodebookError(InputError):
    """A codebook is malformed."""


class UnknownCodeError(InputError):
    """A coding names a code the codebook does not have."""


class EmptyCorpusError(QualcodeError):
    """There is nothing to work on."""


class ConsentError(QualcodeError):
    """A participant's consent forbids the operation."""


class StoreError(QualcodeError):
    """The project store is missing, locked, or of a newer schema."""

    exit_code = 3
