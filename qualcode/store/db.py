"""Opening, creating and migrating the project store, and the one transaction helper."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from qualcode.errors import QualcodeError, StoreError
from qualcode.store.schema import MIGRATIONS, SCHEMA_VERSION

DEFAULT_PROJECT = "qualcode.db"


class ReadOnlyProjectError(QualcodeError):
    """A command that writes was given a project it cannot write (exit 1, like bad input)."""

    def __init__(self, path: Path, what: str = "this command writes to the project") -> None:
        super().__init__(
            f"{path}: read-only: {what}, but the project file or its folder cannot be "
            "written; copy it somewhere writable, or use a command that only reads (status, "
            "agree, report)"
        )


class BusyError(StoreError):
    """Another process holds the project for a long step that must not run twice (exit 3)."""


@contextlib.contextmanager
def exclusive(store: Store, what: str) -> Iterator[None]:
    """Hold the project for one long step (coding): a second process that tries the same while
    the first works is refused at once instead of computing a duplicate run. The lock is an OS
    file lock on ``PROJECT.lock`` beside the project, released when the process ends however
    it ends; where the platform has no ``fcntl`` (Windows) the step is not guarded."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield
        return
    if store.read_only:
        raise ReadOnlyProjectError(store.path)
    lock_path = store.path.with_name(store.path.name + ".lock")
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another qualcode process"
            raise BusyError(
                f"{store.path}: busy: {holder} is {what} this project; wait for it to finish "
                "(a second run at once would only duplicate it)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


class Store:
    """A connection to one project file, with ``atomic()`` for all-or-nothing writes.

    ``read_only`` is true when the file or its folder cannot be written (a read-only disk, a
    shared folder): the store is opened with SQLite's ``mode=ro`` so that reading commands
    still work, and the first write (``atomic()``) is refused with one line saying so.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool = False) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self._depth = 0

    # sqlite3's own implicit transactions are switched off (isolation_level=None) so that
    # BEGIN/COMMIT below are the only ones: a command's writes either all land or none do.
    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """Run the block in one transaction; roll back on any exception.

        Nested calls use savepoints, so a helper that is atomic on its own can be called
        inside a larger command without committing early.
        """
        if self.read_only:
            raise ReadOnlyProjectError(self.path)
        if self._depth == 0:
            # IMMEDIATE takes the write lock now, so a second writer fails at once with
            # "database is locked" instead of half-way through.
            self.conn.execute("BEGIN IMMEDIATE")
        else:
            self.conn.execute(f"SAVEPOINT sp{self._depth}")
        self._depth += 1
        try:
            yield self.conn
        except BaseException:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO sp{self._depth}")
                self.conn.execute(f"RELEASE sp{self._depth}")
            raise
        else:
            self._depth -= 1
            if self._depth == 0:
                self.conn.execute("COMMIT")
            else:
                self.conn.execute(f"RELEASE sp{self._depth}")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]


def busy_timeout() -> float:
    """Seconds a command waits for another writer before giving up (QUALCODE_BUSY_TIMEOUT).

    Writes are short transactions (one coding run, one review decision), so two evaluators
    reviewing at once, or `review` during `code`, wait for each other rather than fail."""
    import os

    try:
        return max(0.0, float(os.environ.get("QUALCODE_BUSY_TIMEOUT", "") or 30.0))
    except ValueError:
        return 30.0


def writable(path: Path) -> bool:
    """Whether SQLite can write the project: the file and its folder (for the -wal and -shm
    files beside it) must both be writable. os.access sees a read-only mount even for root."""
    folder = path.parent if str(path.parent) else Path(".")
    return os.access(path, os.W_OK) and os.access(folder, os.W_OK)


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    try:
        if read_only:
            conn = _connect_read_only(path)
        else:
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout())
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: not a qualcode project ({exc})") from exc
    return conn


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """Open with ``mode=ro``. A WAL-mode file in a folder that cannot be written cannot get the
    -shm file SQLite reads through; nobody can be writing it there either, so it is then opened
    as ``immutable``."""
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None, timeout=busy_timeout())
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None)
    return conn


def _migrate(store: Store) -> None:
    version = store.schema_version
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{store.path}: schema version {version} is newer than this qualcode "
            f"understands ({SCHEMA_VERSION}); upgrade qualcode to open it"
        )
    if store.read_only and version < SCHEMA_VERSION:
        raise ReadOnlyProjectError(
            store.path, f"the project must be upgraded to schema version {SCHEMA_VERSION}"
        )
    for number in range(version, SCHEMA_VERSION):
        # executescript would COMMIT first; run statements one by one inside our transaction
        # so a failing migration leaves the store at its old version.
        with store.atomic() as conn:
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")


def _statements(script: str) -> Iterator[str]:
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            buffer = ""
            if statement.strip(";").strip():
                yield statement


def create_project(path: str | Path) -> Store:
    """Create a new, empty project file; refuse to overwrite one that exists."""
    path = Path(path)
    if path.exists():
        raise StoreError(f"{path}: already exists; use it with --project or choose another path")
    if not path.parent.exists():
        raise StoreError(f"{path.parent}: folder does not exist")
    if not os.access(path.parent, os.W_OK):
        raise ReadOnlyProjectError(path, "a new project is to be created there")
    store = Store(_connect(path), path)
    _migrate(store)
    return store


def open_project(path: str | Path) -> Store:
    """Open an existing project, applying pending migrations; refuse missing or newer ones."""
    path = Path(path)
    if not path.exists():
        raise StoreError(
            f"{path}: no qualcode project here; create it with 'qualcode -p {path} init' "
            "(or name another with --project)"
        )
    read_only = not writable(path)
    store = Store(_connect(path, read_only=read_only), path, read_only=read_only)
    try:
        tables = {r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        store.close()
        raise StoreError(f"{path}: not a qualcode project ({exc})") from exc
    if store.schema_version == 0 and tables:
        store.close()
        raise StoreError(f"{path}: an SQLite file, but not a qualcode project")
    try:
        _migrate(store)
    except QualcodeError:
        store.close()
        raise
    return store


def open_or_create(path: str | Path) -> Store:
    path = Path(path)
    return open_project(path) if path.exists() else create_project(path)
