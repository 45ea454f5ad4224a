"""Training a coder in a child process, so the process that codes never holds what training did.

Training the hybrid coder peaks at about 1.2 GB (its folds in two worker processes, the
training passages' features, the family gate's embeddings), and a Python process keeps much of
what it once held: after training in place, the process that went on to code 500,000 responses
with two Dask workers held about 150 MB more than one that loaded the trained coder from the
cache, which took the run over 2 GB. A child process gives all of it back when it exits.

The child is ``python -m qualcode.coding.apart``, not a multiprocessing process: those re-run
the caller's main script, which a script without a ``__main__`` guard does not survive. It reads
what to fit, pickled, on its standard input, and writes messages on its standard output: its
progress, then the fitted coder (pickled as the cache pickles it), or the error.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable
from typing import IO, Any

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
    """``make_coder(kind, codebook, **params)`` fitted on ``units`` in a child process, with
    ``progress(step, done, total)`` as the hybrid coder reports it."""
    child = subprocess.Popen(
        [sys.executable, "-m", "qualcode.coding.apart"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        with contextlib.suppress(BrokenPipeError), child.stdin:  # gone already: see below
            child.stdin.write(pickle.dumps((kind, codebook, units, params)))
        while True:
            message = _receive(child.stdout)
            if message is None:
                status = child.wait()
                raise QualcodeError(
                    f"training the {kind} coder stopped: its process ended with status "
                    f"{status} (out of memory?)"
                )
            if message[0] == "progress":
                if progress:
                    progress(*message[1:])
            elif message[0] == "fitted":
                return message[1]
            else:
                raise _error(*message[1:])
    finally:
        child.stdout.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _send(out: IO[bytes], message: tuple) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(struct.pack("<Q", len(data)) + data)
    out.flush()


def _receive(source: IO[bytes]) -> tuple | None:
    """The next message, or None when the child has gone without one."""
    head = source.read(8)
    if len(head) < 8:
        return None
    data = source.read(struct.unpack("<Q", head)[0])
    try:
        return pickle.loads(data)  # our own child's pickle
    except Exception:  # cut short: the child died while writing it
        return None


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


def main() -> None:
    """The child: fit what comes on standard input, answer on standard output."""
    # the messages get standard output to themselves: anything printed while fitting, from
    # Python or from a library's C code, goes to standard error
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    try:
        kind, codebook, units, params = pickle.loads(sys.stdin.buffer.read())
        from qualcode.coding.project import make_coder

        coder = make_coder(kind, codebook, **params)
        if kind == "hybrid":
            coder.fit(
                units.texts,
                units.labels,
                groups=units.groups,
                progress=lambda *step: _send(out, ("progress", *step)),
            )
        else:
            coder.fit(units.texts, units.labels, groups=units.groups)
        _send(out, ("fitted", coder))
    except BaseException as exc:  # every error goes back to the process that waits
        try:
            pickled = pickle.dumps(exc)
        except Exception:  # an exception that does not pickle travels as its words
            pickled = None
        _send(out, ("error", pickled, f"{type(exc).__name__}: {exc}", traceback.format_exc()))


if __name__ == "__main__":
    main()
