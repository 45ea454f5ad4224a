"""Training a coder in a child process, so the process that codes never holds what training did.

Training the hybrid coder peaks at about 1.2 GB (its folds in two worker processes, the
training passages' features, the family gate's embeddings), and a Python process keeps much of
what it once held: after training in place, the process that went on to code 500,000 responses
with two Dask workers held about 150 MB more than one that loaded the trained coder from the
cache, which took the run over 2 GB. A child process gives all of it back when it exits. It
sends its progress, then the fitted coder (pickled as the cache pickles it), or the error.
"""

from __future__ import annotations

import multiprocessing
import pickle
import traceback
from collections.abc import Callable
from typing import Any

from qualcode.codebook import Codebook
from qualcode.coding.training import Units
from qualcode.errors import QualcodeError

Progress = Callable[[str, int, int], None]


def fit_apart(
    kind: str,
    codebook: Codebook,
    units: Units,
    params: dict[str, Any],
    progress: Progress | None = None,
) -> Any:
    """``make_coder(kind, codebook, **params)`` fitted on ``units`` in a child process (spawned,
    so it starts clean), with ``progress(step, done, total)`` as the hybrid coder reports it."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(
        target=_fit_child,
        args=(send, kind, codebook, units, params),
        name="qualcode-training",
    )
    child.start()
    send.close()  # the child holds the only writing end: its exit ends the reading here
    try:
        while True:
            try:
                message = receive.recv()
            except EOFError:
                child.join()
                raise QualcodeError(
                    f"training the {kind} coder stopped: its process ended with status "
                    f"{child.exitcode} (out of memory?)"
                ) from None
            if message[0] == "progress":
                if progress:
                    progress(*message[1:])
            elif message[0] == "fitted":
                return pickle.loads(message[1])  # our own child's pickle
            else:
                raise _error(*message[1:])
    finally:
        receive.close()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()
            child.join()


def _fit_child(send: Any, kind: str, codebook: Codebook, units: Units, params: dict) -> None:
    from qualcode.coding.project import make_coder

    try:
        coder = make_coder(kind, codebook, **params)
        if kind == "hybrid":
            coder.fit(
                units.texts,
                units.labels,
                groups=units.groups,
                progress=lambda *step: send.send(("progress", *step)),
            )
        else:
            coder.fit(units.texts, units.labels, groups=units.groups)
        send.send(("fitted", pickle.dumps(coder, protocol=pickle.HIGHEST_PROTOCOL)))
    except BaseException as exc:  # every error goes back to the process that waits
        try:
            pickled = pickle.dumps(exc)
        except Exception:  # an exception that does not pickle travels as its words
            pickled = None
        send.send(("error", pickled, f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        send.close()


def _error(pickled: bytes | None, words: str, where: str) -> BaseException:
    """The child's exception as this process raises it, with the child's traceback noted."""
    try:
        exc = pickle.loads(pickled) if pickled else None  # our own child's pickle
    except Exception:
        exc = None
    if exc is None:
        exc = QualcodeError(f"training failed: {words}")
    if not isinstance(exc, QualcodeError):
        exc.add_note(f"in the training process:\n{where}")
    return exc
