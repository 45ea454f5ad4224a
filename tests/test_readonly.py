"""A project that cannot be written: commands that only read work, commands that write say
"read-only" in one line (exit 1), and neither calls it "not a qualcode project".

Tests run as root, for whom chmod does not stop writes. Where the machine allows it the
project's folder is bind-mounted read-only in a private mount namespace (``unshare``), which
stops root too; everywhere the project is also opened as a read-only disk looks to qualcode
(``os.access`` answering no), which SQLite then enforces through ``mode=ro``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CORPUS, Qualcode

DOCUMENTS = ("hollinsford/HOL-01.txt", "saltmere/SAL-03.txt")
READ_ONLY = "read-only"


@pytest.fixture
def made(tmp_path) -> Qualcode:
    """A project (in its own folder) with two documents and two human coders' codings."""
    folder = tmp_path / "proj"
    folder.mkdir()
    qc = Qualcode(folder / "project.db")
    assert qc("init").exit_code == 0
    for name in DOCUMENTS:
        result = qc("ingest", CORPUS / name)
        assert result.exit_code == 0, result.output
    for coder in ("coder-a", "coder-b"):
        rows = [
            line
            for line in (CORPUS / "codings" / f"{coder}.csv").read_text().splitlines()[1:]
            if line.startswith(DOCUMENTS)
        ]
        header = (CORPUS / "codings" / f"{coder}.csv").read_text().splitlines()[0]
        path = tmp_path / f"{coder}.csv"
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        result = qc("codings", "import", path, "--coder", coder)
        assert result.exit_code == 0, result.output
    return qc


def _no_write_access(monkeypatch, folder: Path) -> None:
    real = os.access

    def access(path, mode, *args, **kwargs):
        inside = Path(path).resolve().is_relative_to(folder.resolve())
        if inside and mode & os.W_OK:
            return False
        return real(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_reading_commands_work_and_writing_ones_say_read_only(made, tmp_path, monkeypatch):
    before = made.dump()
    _no_write_access(monkeypatch, made.project.parent)
    status = made("status")
    assert status.exit_code == 0, status.output
    assert "Hollinsford" in status.output
    agree = made("agree", "--coders", "coder-a,coder-b", "--format", "json")
    assert agree.exit_code == 0, agree.output
    report = made("report", "--out-dir", tmp_path / "report", "--coder", "coder-a")
    assert report.exit_code == 0, report.output
    assert (tmp_path / "report" / "index.html").is_file()
    for args in (
        ("ingest", CORPUS / "brannock" / "BRA-01.txt"),
        ("documents", "remove", "hollinsford/HOL-01.txt", "--yes"),
    ):
        result = made(*args)
        assert result.exit_code == 1, (args, result.output)
        assert READ_ONLY in result.output, (args, result.output)
        assert str(made.project) in result.output
        assert "not a qualcode project" not in result.output
        assert "Traceback" not in result.output
    monkeypatch.undo()
    assert made.dump() == before


def test_init_in_a_folder_that_cannot_be_written(tmp_path, monkeypatch):
    folder = tmp_path / "shared"
    folder.mkdir()
    _no_write_access(monkeypatch, folder)
    result = Qualcode(folder / "new.db")("init")
    assert result.exit_code == 1, result.output
    assert READ_ONLY in result.output
    assert not (folder / "new.db").exists()


def _can_mount_read_only(folder: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", _mount(folder) + " && true"],
        capture_output=True,
    )
    return probe.returncode == 0


def _mount(folder: Path) -> str:
    return f"mount --bind '{folder}' '{folder}' && mount -o remount,bind,ro '{folder}'"


def test_on_a_read_only_mount(made, tmp_path):
    folder = made.project.parent
    if not _can_mount_read_only(folder):
        pytest.skip("needs root and unshare to mount a folder read-only")
    before = made.dump()
    logs = tmp_path / "logs"
    logs.mkdir()
    qualcode = f"'{sys.executable}' -m qualcode -p '{made.project}'"
    steps = {
        "status": "status",
        "agree": "agree --coders coder-a,coder-b",
        "report": f"report --coder coder-a --out-dir '{tmp_path / 'report'}'",
        "ingest": f"ingest '{CORPUS / 'brannock' / 'BRA-01.txt'}'",
    }
    script = " ; ".join(
        [f"({_mount(folder)}) || exit 9"]
        + [
            f"{qualcode} {args} >'{logs}/{n}.out' 2>&1 ; echo $? >'{logs}/{n}.rc'"
            for n, args in steps.items()
        ]
        + [f"touch '{folder}/written' 2>/dev/null && echo WRITABLE >'{logs}/mount' ; true"]
    )
    subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        check=True,
        cwd=Path(__file__).parent.parent,
    )
    assert not (logs / "mount").exists()  # the mount really stopped root from writing
    out = {n: (logs / f"{n}.out").read_text() for n in steps}
    rc = {n: int((logs / f"{n}.rc").read_text()) for n in steps}
    for name in ("status", "agree", "report"):
        assert rc[name] == 0, (name, out[name])
    assert "coder-a" in out["agree"]
    assert (tmp_path / "report" / "index.html").is_file()
    assert rc["ingest"] == 1, out["ingest"]
    assert READ_ONLY in out["ingest"]
    assert "not a qualcode project" not in out["ingest"]
    assert len(out["ingest"].strip().splitlines()) == 1
    assert made.dump() == before
