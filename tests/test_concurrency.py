"""Two or four evaluators writing to one project at once (real processes), and review while a
machine run codes: no decision lost, no command failed."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from qualcode.store import open_project
from tests.conftest import CORPUS, REPO, Qualcode

WORKER = textwrap.dedent(
    """
    import sys
    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.review import ReviewSession
    from qualcode.store import open_project

    project, coder, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    book = load_codebook(default_codebook_path())
    with open_project(project) as store:
        session = ReviewSession(store, coder, book)
        code = next(iter(session.codes))
        for segment in session.queue[:count]:
            session.decide(segment, {code} if segment % 2 else set())
    """
)


@pytest.fixture
def shared(tmp_path):
    qc = Qualcode(tmp_path / "shared.db")
    assert qc("init").exit_code == 0
    assert qc("ingest", CORPUS / "hollinsford").exit_code == 0
    return qc


def _decisions(project) -> dict[str, int]:
    with open_project(project) as store:
        return dict(
            store.execute(
                "SELECT k.name, count(*) FROM coded_segments u JOIN coders k ON k.id = u.coder_id"
                " WHERE k.kind = 'human' GROUP BY k.name"
            ).fetchall()
        )


@pytest.mark.parametrize("writers", [2, 4])
def test_evaluators_reviewing_at_once_lose_nothing(shared, writers):
    script = shared.project.parent / "review_worker.py"
    script.write_text(WORKER, encoding="utf-8")
    try:
        procs = [
            subprocess.Popen(
                [sys.executable, str(script), str(shared.project), f"coder-{i}", "40"],
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(writers)
        ]
        errors = [p.communicate(timeout=300)[1] for p in procs]
    finally:
        script.unlink()
    assert [p.returncode for p in procs] == [0] * writers, errors
    assert _decisions(shared.project) == {f"coder-{i}": 40 for i in range(writers)}


def test_review_while_the_machine_codes(shared):
    script = shared.project.parent / "review_worker.py"
    script.write_text(WORKER, encoding="utf-8")
    try:
        coder = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "qualcode",
                "-p",
                str(shared.project),
                "code",
                "--kind",
                "rules",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        reviewer = subprocess.run(
            [sys.executable, str(script), str(shared.project), "alice", "60"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        _, err = coder.communicate(timeout=300)
    finally:
        script.unlink()
    assert reviewer.returncode == 0, reviewer.stderr
    assert coder.returncode == 0, err
    assert _decisions(shared.project) == {"alice": 60}
    with open_project(shared.project) as store:
        assert store.execute("SELECT count(*) FROM runs WHERE command = 'code'").fetchone()[0] == 1


def test_a_second_code_run_at_once_is_refused(shared):
    # Two `code` commands on one project used to both finish, leaving duplicate runs. While one
    # holds the project for coding (here: this test, through the same lock), another is
    # refused at once with the busy status, and the store is unchanged.
    from qualcode.store.db import exclusive

    with open_project(shared.project) as store, exclusive(store, "coding"):
        refused = shared("code", "--kind", "rules")
    assert refused.exit_code == 3, refused.output
    assert "busy" in refused.output
    assert "coding this project" in refused.output
    with open_project(shared.project) as store:
        assert store.execute("SELECT count(*) FROM runs WHERE command = 'code'").fetchone()[0] == 0
    # Once the first has finished, coding goes ahead.
    assert shared("code", "--kind", "rules").exit_code == 0
