"""Coding on a Dask cluster: ``qualcode code --scheduler ADDRESS``.

The coder is fitted once, in the process that owns the project, and scattered to every worker
once; batches of segment texts go out as tasks, and each comes back as the batch's Assignments.
Workers never see the project file: the calling process assembles the batches in segment order
and writes them, in one transaction, exactly as a local run does, so the stored codings are the
same. A batch whose worker dies is run again elsewhere by Dask's scheduler (it keeps a task's
result until this process has taken it), and each batch's result is kept once, by its position,
so nothing is lost or written twice.

Dask (``pip install 'qualcode[dask]'``) is imported only here and only when a scheduler is
given; without ``--scheduler`` nothing in this module runs.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import uuid
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from itertools import islice
from typing import Any

from qualcode.coding.base import Assignment
from qualcode.errors import QualcodeError

CONNECT_TIMEOUT_S = 10.0  # to reach the scheduler, and for it to have a worker
BATCHES_PER_THREAD = 4  # several batches per worker thread, so a slow one does not stall the run
MIN_BATCH = 16
MAX_BATCH = 512  # the coders' own chunk size
IN_FLIGHT_PER_THREAD = 2  # batches submitted ahead of the results taken back
RETRIES = 2  # a batch that raises is tried again; one whose worker died is rescheduled anyway


class _Portable:
    """A fitted coder as it travels to a worker. The model and hybrid coders pickle (without
    their spaCy pipeline, rebuilt on arrival; see ``HybridCoder.__getstate__``). The rule coder's
    spaCy pipeline does not pickle, and fitting it only compiles the codebook's patterns, so it
    travels unfitted, with its parameters, and is fitted once on arrival."""

    def __init__(self, coder: Any) -> None:
        self.coder = coder

    def __getstate__(self) -> dict[str, Any]:
        from sklearn.base import clone

        from qualcode.coding.rules import RuleCoder

        if isinstance(self.coder, RuleCoder):
            return {"rules": clone(self.coder)}
        return {"coder": self.coder}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.coder = state["rules"].fit() if "rules" in state else state["coder"]


def _code_batch(shipped: _Portable, texts: list[str]) -> list[list[Assignment]]:
    """Runs on a worker: one batch's Assignments, as plain lists."""
    return [
        [Assignment(a.code, a.confidence, list(a.evidence)) for a in result]
        for result in shipped.coder.predict(texts)
    ]


def _fingerprint() -> tuple[str, str, bool, bool]:
    """What must match between this process and a worker for the codings to be the same: the
    qualcode version, the coders' source code and whether each sentence embedding (MiniLM,
    WordLlama) is installed, so a worker without one fails here, not batch by batch."""
    from qualcode import __version__
    from qualcode.coding.cache import _source_digest
    from qualcode.coding.embedding import minilm_available, wordllama_available

    return __version__, _source_digest(), minilm_available(), wordllama_available()


def local_workers(address: str) -> int | None:
    """N for ``local:N`` (a LocalCluster of N worker processes), None for a scheduler address."""
    if not address.startswith("local:"):
        return None
    value = address.removeprefix("local:")
    if not value.isdigit() or int(value) < 1:
        raise QualcodeError(f"--scheduler {address}: write local:N, N a whole number from 1")
    return int(value)


class DaskRunner:
    """Codes chunks of texts with a fitted coder on the cluster behind ``client``, in place of
    ``coder.predict`` on each chunk (see ``code_project``'s ``predict``)."""

    def __init__(
        self,
        client: Any = None,
        *,
        batch_size: int | None = None,
        connect: Callable[[], Any] | None = None,
    ) -> None:
        # ``connect`` (instead of ``client``) makes the client when the first chunk is coded:
        # a local cluster then starts after the coder has trained, not beside its training
        self._client = client
        self._connect = connect
        self.batch_size = batch_size
        # The coder as scattered to the workers, once per coder: code_project calls this
        # runner once per chunk of segments with the same coder.
        self._coder: Any = None
        self._shipped: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            if self._connect is None:
                raise ValueError("a DaskRunner needs a client or a way to connect")
            self._client = self._connect()
        return self._client

    def _ship(self, coder: Any) -> Any:
        # The coder is remembered weakly, only to ship it once: this process need not keep it.
        if self._coder is None or self._coder() is not coder:
            self.release()
            self._shipped = self.client.scatter(_Portable(coder), broadcast=True, hash=False)
            self._coder = weakref.ref(coder)
        return self._shipped

    def release(self) -> None:
        """Let the workers drop the scattered coder."""
        if self._shipped is not None:
            self._shipped.release()
        self._coder = self._shipped = None

    def threads(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def size_for(self, n: int) -> int:
        if self.batch_size:
            return self.batch_size
        wanted = math.ceil(n / (self.threads() * BATCHES_PER_THREAD))
        return min(MAX_BATCH, max(MIN_BATCH, wanted))

    def __call__(
        self,
        coder: Any,
        chunks: Iterable[Sequence[str]],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[list[list[Assignment]]]:
        """Each chunk's codes, in order, as soon as all its batches are back. Batches of the
        next chunks keep the workers busy meanwhile (while this process writes a chunk)."""
        from distributed import as_completed
        from distributed.client import FutureCancelledError as CancelledError
        from distributed.scheduler import KilledWorker

        run = uuid.uuid4().hex[:12]
        shipped = self._ship(coder)
        del coder  # the workers have it; a caller that lets go of it too frees its memory here
        _give_back_memory()
        held: deque[_Chunk] = deque()  # chunks read and not yet given back, oldest first
        first = 0  # the number of held[0]
        batches = self._batches(chunks, held)
        position: dict[str, tuple[int, int]] = {}
        running = as_completed()

        def submit(count: int) -> None:
            for number, start, texts in islice(batches, count):
                future = self.client.submit(
                    _code_batch,
                    shipped,
                    texts,
                    key=f"qualcode-code-{run}-{number}-{start}",
                    retries=RETRIES,
                )
                position[future.key] = (number, start)
                running.add(future)

        try:
            submit(self.threads() * IN_FLIGHT_PER_THREAD)
            for future in running:
                number, start = position.pop(future.key)
                batch = future.result()
                future.release()
                chunk = held[number - first]
                if len(batch) != len(chunk.texts[start : start + chunk.size]) or (
                    start in chunk.results
                ):
                    raise QualcodeError(f"the batch at segment {start} came back malformed")
                chunk.results[start] = batch
                if progress:
                    progress(len(batch))
                submit(1)
                while held and held[0].done():
                    first += 1
                    yield held.popleft().codes()
            while held:  # chunks with no texts
                yield held.popleft().codes()
        except KilledWorker as exc:
            raise QualcodeError(
                f"a coding batch killed its Dask worker each time it ran ({exc}); "
                "see the workers' logs"
            ) from exc
        except CancelledError as exc:
            raise QualcodeError(
                "the Dask cluster lost the coder it was sent (the workers that held it left, "
                "or its active memory manager dropped the other copies); run the scheduler "
                "with distributed.scheduler.active-memory-manager.start: false, or code again"
            ) from exc

    def _batches(
        self, chunks: Iterable[Sequence[str]], held: deque[_Chunk]
    ) -> Iterator[tuple[int, int, list[str]]]:
        """(chunk number, start, texts) of each batch, reading a chunk only when its first
        batch is wanted, and holding it until its codes are given back."""
        for number, texts in enumerate(chunks):
            chunk = _Chunk(list(texts), self.size_for(len(texts)))
            held.append(chunk)
            for start in range(0, len(chunk.texts), chunk.size):
                yield number, start, chunk.texts[start : start + chunk.size]


class _Chunk:
    """A chunk of texts being coded in batches, and the batches' codes by start."""

    def __init__(self, texts: list[str], size: int) -> None:
        self.texts = texts
        self.size = size
        self.results: dict[int, list[list[Assignment]]] = {}

    def done(self) -> bool:
        return len(self.results) == math.ceil(len(self.texts) / self.size)

    def codes(self) -> list[list[Assignment]]:
        return [result for start in sorted(self.results) for result in self.results[start]]


def _give_back_memory() -> None:
    """Collect, then ask glibc to return freed memory to the system (elsewhere: collect only),
    so the process that owns the store shrinks once the coder it shipped is gone."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def local_cluster(n: int):
    """A LocalCluster of n worker processes, one thread each, for ``--scheduler local:N``.

    Its active memory manager is off: by default it drops all but one copy of data nobody
    waits on, so the coder broadcast to every worker would soon live on one only, and losing
    that worker would lose the coder with it. With every worker holding it, a worker that dies
    costs only its batch, which runs again elsewhere."""
    import dask
    from distributed import LocalCluster

    with (
        dask.config.set({"distributed.scheduler.active-memory-manager.start": False}),
        warnings.catch_warnings(),  # its status server moves off a busy port: no news
    ):
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        return LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None
        )


@contextmanager
def dask_runner(address: str, *, batch_size: int | None = None) -> Iterator[DaskRunner]:
    """Connect to the Dask scheduler at ``address``, check that its workers run the same
    qualcode, and yield a runner for ``code_project(predict=...)``; anything wrong is a
    QualcodeError raised before the project is touched. A ``local:N`` cluster starts when the
    first chunk is coded, after training, inside the run's transaction: if it cannot start,
    the project is left as it was."""
    try:
        from distributed import Client
    except ImportError as exc:
        raise QualcodeError(
            "--scheduler needs Dask, an optional extra: pip install 'qualcode[dask]'"
        ) from exc
    n = local_workers(address)
    if n is not None:
        # started when coding starts: its N worker processes (about 0.6 GB each with the
        # hybrid coder) would otherwise be held through the coder's training, which peaks there
        with ExitStack() as stack:

            def connect() -> Any:
                client = stack.enter_context(Client(stack.enter_context(local_cluster(n))))
                _check_workers(client, address)
                return client

            yield from _runner(DaskRunner(batch_size=batch_size, connect=connect))
        return
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, ValueError, TimeoutError) as exc:
        raise QualcodeError(f"cannot reach a Dask scheduler at {address!r}: {exc}") from exc
    with client:
        _check_workers(client, address)
        yield from _runner(DaskRunner(client, batch_size=batch_size))


def _runner(runner: DaskRunner) -> Iterator[DaskRunner]:
    try:
        yield runner
    finally:
        runner.release()


def _check_workers(client: Any, address: str) -> None:
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
    except TimeoutError as exc:
        raise QualcodeError(
            f"the Dask scheduler at {address} has no workers (waited {CONNECT_TIMEOUT_S:g} s)"
        ) from exc
    mine = _fingerprint()
    try:
        theirs = client.run(_fingerprint)
    except Exception as exc:  # a worker without qualcode cannot even load the function
        raise QualcodeError(
            f"the Dask workers at {address} cannot run qualcode ({type(exc).__name__}: {exc}); "
            "install the same qualcode on every worker"
        ) from exc
    different = sorted(worker for worker, value in theirs.items() if tuple(value) != mine)
    if different:
        raise QualcodeError(
            f"Dask workers {', '.join(different)} run another qualcode than this one (version, "
            "coder source or installed sentence embeddings differ); install the same qualcode "
            "everywhere"
        )
