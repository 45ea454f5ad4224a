"""The built wheel works away from this repository: installed into a fresh virtual environment
in a temporary folder, `qualcode run` codes, audits and reports the demo corpus copied
elsewhere, with the codebook and training codings it carries as package data.

No network: the wheel goes in with --no-deps and the environment borrows the dependencies
already installed beside this test (a path line, not this checkout: the checkout's editable
install is not on it), so the wheel's own qualcode is the one imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import CORPUS, REPO

pytest.importorskip("build")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", work / "dist", REPO],
        capture_output=True,
        text=True,
        cwd=work,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next((work / "dist").glob("qualcode-*.whl"))
    env = work / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    (site / "borrowed-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel],
        capture_output=True,
        text=True,
    )
    assert pip.returncode == 0, pip.stderr[-2000:]
    return env


def test_the_wheel_carries_its_data_and_runs_the_demo(installed, tmp_path):
    corpus = tmp_path / "somewhere" / "partnership-sites"
    shutil.copytree(CORPUS, corpus)
    python = installed / "bin" / "python"
    where = subprocess.check_output(
        [python, "-c", "import qualcode.data as d; print(d.shipped_codebook_path())"],
        text=True,
        cwd=tmp_path,
    ).strip()
    assert where.startswith(str(installed)), where  # the wheel's copy, not the checkout's
    env = {**os.environ, "PYTHONPATH": ""}
    result = subprocess.run(
        [installed / "bin" / "qualcode", "run", corpus, "--out-dir", tmp_path / "out"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=1800,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "gold.csv over partnership-sites" in result.stdout  # trained on the packaged codings
    assert (tmp_path / "out" / "report" / "index.html").is_file()
    status = subprocess.run(
        [installed / "bin" / "qualcode", "-p", tmp_path / "out" / "qualcode.db", "status"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert "Codebook: Barriers to and prerequisites" in status.stdout
    assert "set for this project" in status.stdout


def test_a_project_moved_to_another_folder_still_codes_and_reports(installed, tmp_path):
    out = tmp_path / "first"
    out.mkdir()
    qualcode = installed / "bin" / "qualcode"
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS / "saltmere", corpus / "saltmere")
    ingest = ["ingest", corpus, "--default-site", "Saltmere"]
    for args in (["init"], ingest, ["code", "--kind", "rules"]):
        done = subprocess.run([qualcode, "-p", out / "p.db", *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    moved = tmp_path / "elsewhere" / "p.db"
    moved.parent.mkdir()
    shutil.move(out / "p.db", moved)
    shutil.rmtree(corpus)  # the transcripts are in the store; the folders are not needed
    for args in (["code", "--kind", "hybrid"], ["report", "--out-dir", tmp_path / "r"]):
        done = subprocess.run([qualcode, "-p", moved, *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "index.html").is_file()
