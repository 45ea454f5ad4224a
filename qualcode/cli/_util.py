"""What the commands share: the error boundary, the project option, progress, tables."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from tqdm import tqdm

from qualcode.errors import QualcodeError, StoreError
from qualcode.store import Store, open_project
from qualcode.store.db import busy_timeout
from qualcode.textio import marked_pieces

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def rename_args(args: list[str], renamed: dict[str, str]) -> list[str]:
    """Old option spellings replaced by the new ones, each with a warning on stderr; arguments
    after ``--`` are left alone."""
    out = list(args)
    for i, arg in enumerate(out):
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if name in renamed:
            new = renamed[name]
            click.echo(
                f"Warning: {name} is deprecated and goes in the next release; use {new}.",
                err=True,
            )
            out[i] = new + eq + value
    return out


def renamed(spellings: dict[str, str], group: bool = False) -> type[click.Command]:
    """A command class that still accepts the old spellings of renamed options (old -> new)
    for one release, warning each time: ``@click.command(cls=renamed({"--coder": "--kind"}))``."""
    base = click.Group if group else click.Command

    class Renamed(base):  # type: ignore[valid-type, misc]
        def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
            return super().parse_args(ctx, rename_args(args, spellings))

    return Renamed


@contextlib.contextmanager
def error_boundary() -> Iterator[None]:
    """Turn a QualcodeError into one line on stderr and its exit status; bugs keep tracebacks."""
    try:
        yield
    except QualcodeError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        click.echo(
            "Error: the project is busy: another qualcode command (or program) held it for "
            f"longer than {busy_timeout():g} s; try again when it has finished, or set "
            "QUALCODE_BUSY_TIMEOUT (seconds) to wait longer",
            err=True,
        )
        sys.exit(StoreError.exit_code)


def write_output(
    path: str | Path, text: str | Iterable[str], ctx: click.Context | None = None, what: str = ""
) -> None:
    """Write an -o file, from one text or from pieces as they come (an export too large to
    hold); a missing folder or a refused write is one line and exit 1. With ``ctx``, the file
    holds transcript text: the project records it, so that removing a document later deletes
    it too."""
    target = Path(path)
    try:
        with target.open("w", encoding="utf-8") as out:
            if isinstance(text, str):
                out.write(text)
            else:
                for piece in text:
                    out.write(piece)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, FileNotFoundError) and not target.parent.is_dir():
            reason = f"the folder {target.parent} does not exist"
        click.echo(f"Error: cannot write {target}: {reason}", err=True)
        sys.exit(1)
    if ctx is not None:
        from qualcode.store import queries as q

        with project(ctx) as store:
            if store.read_only:  # nothing to record in a project that cannot be written
                return
            with store.atomic():
                q.record_outputs(store, [target], what)


reference_coder_option = click.option(
    "--reference-coder",
    metavar="NAME",
    help="The human coder the machine is audited against (default: the manifest's "
    "reference_coder, else gold, consensus or adjudicated, else the human coder who examined "
    "the most segments).",
)

width_option = click.option(
    "--width",
    type=click.IntRange(20, 1000),
    default=100,
    show_default=True,
    help="Wrap text at this width.",
)


def project_path(ctx: click.Context) -> Path:
    return Path(ctx.find_root().params["project"])


@contextlib.contextmanager
def project(ctx: click.Context) -> Iterator[Store]:
    """Open the project named by --project, inside the error boundary."""
    with error_boundary():
        store = open_project(project_path(ctx))
        try:
            yield store
        finally:
            store.close()


@contextlib.contextmanager
def progress_bar(desc: str, unit: str = "file") -> Iterator[Callable[..., None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal) fed by a callback.

    The library calls ``step(label, total)`` once per item, or ``step(label, total, done)``
    with a running count; it learns the total only after planning, so the bar takes it from
    the first call.
    """
    bar = tqdm(desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False)

    def step(label: str, total: int, done: int | None = None) -> None:
        if bar.total != total:
            bar.total = total
        bar.set_postfix_str(label[-40:], refresh=False)
        if done is None:
            bar.update(1)
        else:
            bar.update(done - bar.n)

    try:
        yield step
    finally:
        bar.close()


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table; numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [
        all(isinstance(r[i], int | float) for r in rows) and bool(rows) for i in range(len(headers))
    ]

    def fmt(row: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if num else c.ljust(w)
            for c, w, num in zip(row, widths, numeric, strict=True)
        ).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    lines += [fmt(r) for r in cells[1:]]
    return "\n".join(lines)


def highlight(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    """Mark evidence spans: bold and underlined on a terminal, [[...]] elsewhere."""
    return "".join(
        (click.style(piece, bold=True, underline=True) if color else f"[[{piece}]]")
        if marked
        else piece
        for piece, marked in marked_pieces(text, spans)
    )
