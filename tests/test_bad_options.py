"""Every command, every option, bad values: never a traceback, always a one-line error.

Found before: a negative --bootstrap reached numpy, a small --width textwrap, `-o` into a
missing folder raised FileNotFoundError, and a locked project gave a raw sqlite3 error.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from tests.conftest import CORPUS, Qualcode

DOCUMENT = CORPUS / "hollinsford" / "HOL-01.txt"


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        yield (*prefix, name), command


def _base(path: tuple[str, ...], tmp: Path) -> list[str]:
    """Arguments that make the command valid, so the bad value is the only fault."""
    codings = tmp / "alice.csv"
    return {
        ("ingest",): [str(DOCUMENT)],
        ("codebook", "validate"): [str(tmp / "book.yaml")],
        ("code",): ["--kind", "rules"],
        ("train",): ["--from", "alice", "--kind", "model"],
        ("codings", "import"): [str(codings), "--coder", "bob"],
        ("codings", "show"): ["1"],
        ("documents", "show"): ["hollinsford/HOL-01.txt"],
        ("documents", "remove"): ["nothing-of-that-name.txt"],
        ("review",): ["--coder", "alice"],
        ("agree",): ["--coders", "alice,rules"],
        ("import",): [str(codings), "--coder", "carol"],
        ("export", "qdpx"): ["-o", str(tmp / "out.qdpx")],
        ("run",): [str(tmp / "no-corpus")],
        ("report",): ["--out-dir", str(tmp / "report")],
        ("codebook", "import"): [str(tmp / "missing.qdc")],
    }.get(path, [])


def _bad_values(option: click.Option, tmp: Path) -> list[str]:
    kind = option.type
    if isinstance(kind, click.Choice):
        return ["bogus"]
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return ["-5", "abc", "0"]
    if isinstance(kind, click.Path):
        return [str(tmp / "missing-folder" / "x.out"), str(tmp)]
    return ["", "no-such-thing", "../../etc/passwd"]


@pytest.fixture(scope="module")
def ready(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-options")
    qc = Qualcode(tmp / "project.db")
    assert qc("init").exit_code == 0
    assert qc("ingest", DOCUMENT).exit_code == 0
    (tmp / "alice.csv").write_text(
        "document,start,end,code\nhollinsford/HOL-01.txt,1038,2337,financial.budget_constraints\n"
    )
    assert qc("codings", "import", tmp / "alice.csv", "--coder", "alice").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    shutil.copy(CORPUS.parent.parent / "codebooks" / "partnership-barriers.yaml", tmp / "book.yaml")
    return tmp


CASES = [
    (path, option.opts[0])
    for path, command in _commands(cli)
    for option in command.params
    if isinstance(option, click.Option) and not option.is_flag and option.opts[0] != "--help"
]


@pytest.mark.parametrize(("path", "option"), CASES, ids=[f"{' '.join(p)} {o}" for p, o in CASES])
def test_bad_option_values_never_give_a_traceback(ready, tmp_path, path, option):
    project = tmp_path / "project.db"
    shutil.copy(ready / "project.db", project)
    command = cli
    for name in path:
        command = command.get_command(click.Context(command), name)
    param = next(p for p in command.params if isinstance(p, click.Option) and p.opts[0] == option)
    for value in _bad_values(param, tmp_path):
        args = ["--project", str(project), *path, *_base(path, ready), option, value]
        result = CliRunner().invoke(cli, args)
        shown = f"{' '.join(args)} -> {result.exit_code}: {result.output[-500:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), shown
        assert result.exit_code in (0, 1, 2, 3, 4), shown
        assert "Traceback" not in result.output, shown
        if result.exit_code in (1, 2, 3):  # 4 is --fail-under's gate, which lists codes
            assert result.output.strip().splitlines()[-1].startswith("Error"), shown


def test_a_locked_project_is_one_line_and_exit_3(ready, tmp_path, monkeypatch):
    project = tmp_path / "project.db"
    shutil.copy(ready / "project.db", project)
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT", "0.2")
    holder = sqlite3.connect(project, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the project
    try:
        result = CliRunner().invoke(cli, ["--project", str(project), "code", "--kind", "rules"])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 3, result.output
    assert "Error: the project is busy" in result.output
    assert "QUALCODE_BUSY_TIMEOUT" in result.output


def test_output_into_a_missing_folder_is_one_line(ready, tmp_path):
    result = CliRunner().invoke(
        cli, ["codebook", "export", "-o", str(tmp_path / "nowhere" / "book.md")]
    )
    assert result.exit_code == 1
    assert f"cannot write {tmp_path / 'nowhere' / 'book.md'}: the folder" in result.output
