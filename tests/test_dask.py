"""Coding on a Dask cluster (`qualcode code --scheduler`), for real, on a LocalCluster of two
worker processes: the same codings as a local run, byte for byte in the export; a worker killed
in the middle of a batch costs nothing; a bad address changes nothing; and without
--scheduler Dask is never imported."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.store import open_project
from tests.conftest import CORPUS, Qualcode

pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use")

distributed = pytest.importorskip(
    "distributed", reason="Dask is an extra: pip install 'qualcode[dask]' (in the dev extra)"
)


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, shared by the tests of this module: the cluster
    ``--scheduler local:2`` starts."""
    from qualcode.coding.distributed import local_cluster

    with local_cluster(2) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def ingested(tmp_path_factory) -> Path:
    """The demo corpus, ingested once; tests code copies of it."""
    path = tmp_path_factory.mktemp("dask") / "demo.db"
    qc = Qualcode(path)
    assert qc("init").exit_code == 0
    assert qc("ingest", CORPUS).exit_code == 0
    return path


def _copy(qc_source: Path, target: Path) -> Qualcode:
    assert Qualcode(qc_source)("backup", "-o", target).exit_code == 0
    return Qualcode(target)


def _export(qc: Qualcode, path: Path) -> bytes:
    result = qc("codings", "export", "-o", path)
    assert result.exit_code == 0, result.output
    return path.read_bytes()


def _count(qc: Qualcode) -> tuple[int, int]:
    """All codings and coded-segment marks in the project (every run)."""
    with open_project(qc.project) as store:
        return (
            store.execute("SELECT count(*) FROM codings").fetchone()[0],
            store.execute("SELECT count(*) FROM coded_segments").fetchone()[0],
        )


def _batches(stream: list[dict]) -> list[dict]:
    return [t for t in stream if str(t["key"]).startswith("qualcode-code-")]


def test_local_n_codes_what_a_local_run_codes(ingested, tmp_path):
    plain = _copy(ingested, tmp_path / "plain.db")
    dask = _copy(ingested, tmp_path / "dask.db")
    assert plain("code", "--kind", "rules").exit_code == 0
    result = dask("code", "--kind", "rules", "--scheduler", "local:2")
    assert result.exit_code == 0, result.output
    expected = _export(plain, tmp_path / "plain.csv")
    assert expected.count(b"\n") > 300  # the demo's rule codings, not an empty export
    assert _export(dask, tmp_path / "dask.csv") == expected
    assert _count(dask) == _count(plain)


def test_a_scheduler_address_runs_several_batches_on_both_workers(client, ingested, tmp_path):
    plain = _copy(ingested, tmp_path / "plain.db")
    dask = _copy(ingested, tmp_path / "dask.db")
    assert plain("code", "--kind", "rules").exit_code == 0
    with distributed.get_task_stream(client) as stream:
        result = dask("code", "--kind", "rules", "--scheduler", client.scheduler.address)
    assert result.exit_code == 0, result.output
    assert _export(dask, tmp_path / "dask.csv") == _export(plain, tmp_path / "plain.csv")
    batches = _batches(stream.data)
    assert len(batches) >= 4
    assert len({t["worker"] for t in batches}) == 2


def test_the_model_coder_on_the_cluster_codes_what_it_codes_here(client, ingested, tmp_path):
    plain = _copy(ingested, tmp_path / "plain.db")
    dask = _copy(ingested, tmp_path / "dask.db")
    # trained once (or loaded from the tests' cache of trained coders), shipped to the workers
    assert plain("code", "--kind", "model", "--site", "Saltmere").exit_code == 0
    result = dask(
        "code", "--kind", "model", "--site", "Saltmere", "--scheduler", client.scheduler.address
    )
    assert result.exit_code == 0, result.output
    expected = _export(plain, tmp_path / "plain.csv")
    assert b",model," in expected
    assert _export(dask, tmp_path / "dask.csv") == expected
    assert _count(dask) == _count(plain)


class _DiesOnce:
    """A coder that kills its own worker process (SIGKILL, as the OOM killer would) the first
    time it is given one chosen batch, whichever worker that is; later it codes as usual."""

    def __init__(self, coder, marker: Path, batch: list[str]) -> None:
        from qualcode.coding.distributed import _Portable

        self.shipped = _Portable(coder)
        self.marker = marker
        self.batch = batch

    def predict(self, texts):
        if list(texts) == self.batch:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                self.marker.write_text(str(os.getpid()))
                os.kill(os.getpid(), signal.SIGKILL)
        return self.shipped.coder.predict(texts)


def test_a_worker_killed_mid_batch_is_retried_and_nothing_is_lost_or_doubled(
    client, ingested, tmp_path
):
    from qualcode.coding.distributed import DaskRunner
    from qualcode.coding.project import code_project, resolve_codebook

    plain = _copy(ingested, tmp_path / "plain.db")
    dask = _copy(ingested, tmp_path / "dask.db")
    assert plain("code", "--kind", "rules").exit_code == 0
    marker = tmp_path / "killed"
    size = 40
    pids = set(client.run(os.getpid).values())
    done: list[int] = []

    def predict(coder, chunks, progress):
        (texts,) = chunks = list(chunks)  # the demo's 413 segments are one chunk
        doomed = texts[2 * size : 3 * size]  # the third batch: two have been coded by then
        runner = DaskRunner(client, batch_size=size)
        yield from runner(_DiesOnce(coder, marker, doomed), chunks, progress)
        runner.release()

    with open_project(dask.project) as store:
        report = code_project(
            store,
            kind="rules",
            codebook=resolve_codebook(store),
            predict=predict,
            progress=lambda n, total: done.append(n),
        )
    assert marker.exists(), "no worker was killed"
    assert int(marker.read_text()) in pids  # one of the cluster's own worker processes died
    assert len(done) == -(-413 // size)  # each batch counted once, none twice
    assert report.segments == 413
    assert _export(dask, tmp_path / "dask.csv") == _export(plain, tmp_path / "plain.csv")
    assert _count(dask) == _count(plain)
    assert report.codings == _count(plain)[0]


def test_a_bad_scheduler_is_one_line_and_changes_nothing(ingested, tmp_path, monkeypatch):
    monkeypatch.setattr("qualcode.coding.distributed.CONNECT_TIMEOUT_S", 1.0)
    qc = _copy(ingested, tmp_path / "p.db")
    before = qc.dump()
    for address, message in [
        ("tcp://127.0.0.1:1", "Error: cannot reach a Dask scheduler at 'tcp://127.0.0.1:1'"),
        ("nowhere", "Error: cannot reach a Dask scheduler at 'nowhere'"),
        ("local:0", "Error: --scheduler local:0: write local:N"),
    ]:
        result = qc("code", "--kind", "rules", "--scheduler", address)
        assert result.exit_code == 1, result.output
        assert result.stderr.startswith(message)
        assert result.stderr.count("\n") == 1
        assert qc.dump() == before


def test_local_n_starts_its_workers_after_training_and_a_failed_start_changes_nothing(
    ingested, tmp_path, monkeypatch
):
    """`local:N`'s workers (about 0.6 GB each with the hybrid coder) start once the coder has
    trained, not beside its training; a cluster that then cannot be used stops the run with one
    line, inside its transaction, so the project is as it was."""
    from qualcode.coding import distributed as dist
    from qualcode.coding import project
    from qualcode.errors import QualcodeError

    events: list[str] = []
    train, start = project.trained_coder, dist.local_cluster

    def trained(*args, **kwargs):
        coder = train(*args, **kwargs)
        events.append("trained")
        return coder

    def cluster(n):
        events.append("cluster")
        return start(n)

    monkeypatch.setattr(project, "trained_coder", trained)
    monkeypatch.setattr(dist, "local_cluster", cluster)
    qc = _copy(ingested, tmp_path / "p.db")
    result = qc("code", "--kind", "model", "--site", "Saltmere", "--scheduler", "local:1")
    assert result.exit_code == 0, result.output
    assert events == ["trained", "cluster"]

    fresh = _copy(ingested, tmp_path / "fresh.db")
    before = fresh.dump()

    def refused(client, address):
        raise QualcodeError(f"Dask workers at {address} run another qualcode than this one")

    monkeypatch.setattr(dist, "_check_workers", refused)
    result = fresh("code", "--kind", "model", "--site", "Saltmere", "--scheduler", "local:1")
    assert result.exit_code == 1
    assert events == ["trained", "cluster", "trained", "cluster"]
    assert "run another qualcode than this one" in result.stderr
    assert result.stderr.count("\n") == 1
    assert fresh.dump() == before


def test_a_scheduler_without_workers_is_refused(ingested, tmp_path, monkeypatch):
    monkeypatch.setattr("qualcode.coding.distributed.CONNECT_TIMEOUT_S", 1.0)
    qc = _copy(ingested, tmp_path / "p.db")
    before = qc.dump()
    with distributed.LocalCluster(n_workers=0, dashboard_address=None) as empty:
        result = qc("code", "--kind", "rules", "--scheduler", empty.scheduler_address)
    assert result.exit_code == 1
    assert "has no workers" in result.stderr
    assert qc.dump() == before


def test_without_a_scheduler_dask_is_never_imported(ingested, tmp_path):
    qc = _copy(ingested, tmp_path / "p.db")
    script = (
        "import sys\n"
        "from qualcode.cli import cli\n"
        f"try:\n    cli(['-p', {str(qc.project)!r}, 'code', '--kind', 'rules'])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print('loaded:', loaded)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "rules coded 413 segments" in result.stdout
    assert "loaded: []" in result.stdout
    assert _count(qc)[0] > 0


def test_chunks_stream_through_the_runner_in_order(client, ingested, tmp_path, monkeypatch):
    """Segments go out a chunk at a time and the batches of later chunks run while earlier
    ones are written: the codings are still the local run's."""
    from qualcode.coding import project as coding

    plain = _copy(ingested, tmp_path / "plain.db")
    dask = _copy(ingested, tmp_path / "dask.db")
    assert plain("code", "--kind", "rules").exit_code == 0
    monkeypatch.setattr(coding, "CODE_CHUNK", 50)
    with distributed.get_task_stream(client) as stream:
        result = dask("code", "--kind", "rules", "--scheduler", client.scheduler.address)
    assert result.exit_code == 0, result.output
    assert _export(dask, tmp_path / "dask.csv") == _export(plain, tmp_path / "plain.csv")
    assert _count(dask) == _count(plain)
    keys = {str(t["key"]) for t in _batches(stream.data)}
    chunks = {key.split("-")[3] for key in keys}
    assert len(chunks) == -(-413 // 50)  # every chunk went out, in batches of its own


def _without_wordllama():
    from qualcode.coding import embedding

    embedding.kept_wordllama_available = embedding.wordllama_available
    embedding.wordllama_available = lambda: False


def _with_wordllama():
    from qualcode.coding import embedding

    embedding.wordllama_available = embedding.kept_wordllama_available


def test_a_worker_without_the_fast_embedding_is_refused_before_any_batch(client):
    """The workers' fingerprint names each sentence embedding installed, so a worker that
    lacks WordLlama's files is found when the cluster is checked, not batch by batch."""
    from qualcode.coding.distributed import _check_workers
    from qualcode.errors import QualcodeError

    _check_workers(client, "test-cluster")  # the same qualcode everywhere: accepted
    lacking = sorted(client.scheduler_info()["workers"])[:1]
    client.run(_without_wordllama, workers=lacking)
    try:
        with pytest.raises(QualcodeError, match="installed sentence embeddings differ") as error:
            _check_workers(client, "test-cluster")
        assert lacking[0] in str(error.value)
    finally:
        client.run(_with_wordllama, workers=lacking)
    _check_workers(client, "test-cluster")


def test_the_runner_does_not_keep_the_coder_it_shipped(client):
    """Once the workers have the coder, the process that owns the store only writes codings:
    the runner remembers the coder weakly (to ship it once), so letting go of it frees it."""
    import gc
    import weakref

    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.distributed import DaskRunner
    from qualcode.coding.rules import RuleCoder

    coder = RuleCoder(load_codebook(default_codebook_path())).fit()
    kept = weakref.ref(coder)
    runner = DaskRunner(client, batch_size=16)
    coded = runner(coder, [["We never pooled budgets.", "They shunt costs onto us."]])
    del coder
    [codes] = list(coded)
    assert [a.code for a in codes[1]] == ["financial.budget_guarding"]
    gc.collect()
    assert kept() is None
    runner.release()


def test_every_worker_keeps_a_copy_of_the_coder(client):
    """The cluster `local:N` starts keeps the coder on every worker: Dask's active memory
    manager, which by default drops extra copies every 2 s, is off, so a worker that dies does
    not take the only copy with it (see the killed-worker test)."""
    import time

    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.distributed import DaskRunner
    from qualcode.coding.rules import RuleCoder

    coder = RuleCoder(load_codebook(default_codebook_path())).fit()
    runner = DaskRunner(client)
    shipped = runner._ship(coder)
    time.sleep(5)  # more than two rounds of the memory manager, were it on
    assert len(client.who_has(shipped)[shipped.key]) == 2
    runner.release()
