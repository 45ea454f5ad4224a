from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.store import create_project, open_project
from qualcode.store import queries as q

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
CORPUS = REPO / "corpora" / "partnership-sites"


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory):
    """Trained coders are cached in a folder of this test session, never the user's own; tests
    that train the same coder on the same units share it, as a user's runs would."""
    import os

    folder = tmp_path_factory.mktemp("qualcode-cache")
    old = os.environ.get("QUALCODE_CACHE_DIR")
    os.environ["QUALCODE_CACHE_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("QUALCODE_CACHE_DIR", None)
    else:
        os.environ["QUALCODE_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def data() -> Path:
    return DATA


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh, empty project file."""
    path = tmp_path / "project.db"
    create_project(path).close()
    return path


@pytest.fixture
def good_copy(tmp_path: Path) -> Path:
    """A writable copy of tests/data/good, for tests that change files."""
    target = tmp_path / "good"
    shutil.copytree(DATA / "good", target)
    return target


class Qualcode:
    """Runs the CLI against one project, as a user would."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(
            cli, ["--project", str(self.project), *map(str, args)], input=input
        )

    def dump(self) -> str:
        with open_project(self.project) as store:
            return q.dump(store)


@pytest.fixture
def qc(project: Path) -> Qualcode:
    return Qualcode(project)
