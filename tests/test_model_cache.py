"""The trained-coder cache: a second `code` on the same training units loads the coder instead
of training it, gives the same codings, and never reads a file it did not write itself."""

from __future__ import annotations

import os
import pickle
import re

import pytest

from qualcode.coding import cache
from tests.conftest import CORPUS, Qualcode


def _codings(qc: Qualcode, run: int) -> list[tuple]:
    from qualcode.store import open_project

    with open_project(qc.project) as store:
        return [
            tuple(r)
            for r in store.execute(
                "SELECT segment_id, code_id, round(confidence, 6) FROM codings WHERE run_id = ?"
                " ORDER BY segment_id, code_id",
                (run,),
            )
        ]


def _runs(qc: Qualcode) -> list[int]:
    from qualcode.store import open_project

    with open_project(qc.project) as store:
        return [r[0] for r in store.execute("SELECT id FROM runs WHERE command = 'code'")]


def test_second_run_loads_the_trained_coder(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_CACHE_DIR", str(tmp_path / "cache"))
    qc = Qualcode(tmp_path / "p.db")
    assert qc("init").exit_code == 0
    assert qc("ingest", CORPUS / "saltmere").exit_code == 0
    assert qc("code", "--kind", "model").exit_code == 0
    files = list((tmp_path / "cache" / "models").glob("*.pkl"))
    assert len(files) == 1
    assert oct(files[0].stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == "0o700"

    trained = []
    real_fit = __import__("qualcode.coding.model", fromlist=["ModelCoder"]).ModelCoder.fit

    def counting_fit(self, *args, **kwargs):
        trained.append(1)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr("qualcode.coding.model.ModelCoder.fit", counting_fit)
    assert qc("code", "--kind", "model").exit_code == 0
    assert trained == []  # loaded, not trained
    first, second = _runs(qc)
    assert _codings(qc, first) == _codings(qc, second)


def test_a_file_others_may_write_is_not_loaded(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_CACHE_DIR", str(tmp_path / "cache"))
    cache.save("k" * 64, {"a": 1})
    path = tmp_path / "cache" / "models" / f"{'k' * 64}.pkl"
    assert cache.load("k" * 64) == {"a": 1}
    os.chmod(path, 0o666)
    assert cache.load("k" * 64) is None
    os.chmod(path, 0o600)
    path.write_bytes(b"not a pickle")
    assert cache.load("k" * 64) is None
    assert not path.exists()  # a damaged file is dropped


def test_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_CACHE_DIR", "off")
    cache.save("x" * 64, pickle)
    assert cache.load("x" * 64) is None


def _few_units():
    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.training import Units, default_units

    book = load_codebook(default_codebook_path())
    units = default_units(book)
    few = Units(units.texts[:400], units.labels[:400], units.groups[:400])
    return book, few


def test_a_coder_trained_apart_is_the_coder_trained_here():
    """Training runs in a child process (so the process that codes never holds training's
    memory): the coder it sends back codes exactly as one trained in this process."""
    from qualcode.coding.apart import fit_apart
    from qualcode.coding.project import make_coder

    book, units = _few_units()
    here = make_coder("model", book).fit(units.texts, units.labels, groups=units.groups)
    apart = fit_apart("model", book, units, {})
    texts = [*units.texts[:50], "We pooled the budget but the trust would not share data."]
    # the same up to the last bits (BLAS may sum in another order in another process: the
    # suite's Dask tests leave this process's float results 1e-16 from a fresh one's)
    for mine, theirs in zip(apart.predict_proba(texts), here.predict_proba(texts), strict=True):
        assert mine == pytest.approx(theirs, rel=1e-12, abs=1e-12)
    assert apart.thresholds_ == here.thresholds_
    assert any(p for p in apart.predict_proba(texts))


class _DiesOnArrival:
    """Unpickled in the training process, it ends that process at once (as the OOM killer
    would)."""

    def __reduce__(self):
        return (os._exit, (9,))


def test_training_that_fails_or_dies_apart_says_so_here():
    from qualcode.coding.apart import fit_apart
    from qualcode.coding.training import Units
    from qualcode.errors import QualcodeError

    book, units = _few_units()
    wrong = Units(units.texts[:5], [{"no.such_code"}] * 5, units.groups[:5])
    # the child's own error, with its traceback as a note
    failed = re.escape("codes not in the codebook: ['no.such_code']")
    with pytest.raises(ValueError, match=failed) as caught:
        fit_apart("model", book, wrong, {})
    assert "in the training process" in caught.value.__notes__[0]
    assert "Traceback" in caught.value.__notes__[0]
    stopped = "training the model coder stopped: its process ended with status 9 (out of memory?)"
    with pytest.raises(QualcodeError, match=re.escape(stopped)):
        fit_apart("model", book, units, {"threshold": _DiesOnArrival()})


def test_training_apart_works_from_a_script_without_a_main_guard(tmp_path):
    """The training process is `python -m qualcode.coding.apart`, not a multiprocessing child,
    which would run the calling script again (it hung on a script without `__main__` guard)."""
    import subprocess
    import sys

    from tests.conftest import REPO

    script = tmp_path / "train.py"
    script.write_text(
        "from qualcode.codebook import default_codebook_path, load_codebook\n"
        "from qualcode.coding.apart import fit_apart\n"
        "from qualcode.coding.training import Units, default_units\n"
        "book = load_codebook(default_codebook_path())\n"
        "units = default_units(book)\n"
        "few = Units(units.texts[:200], units.labels[:200], units.groups[:200])\n"
        "print(type(fit_apart('model', book, few, {})).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ModelCoder"
