"""Trained coders kept between runs, so that coding a project again does not train again.

A trained model or hybrid coder is written, pickled, to the user's own cache folder
(``$QUALCODE_CACHE_DIR``, else ``$XDG_CACHE_HOME/qualcode``, else ``~/.cache/qualcode``; the
value ``off`` turns caching off), keyed by everything that decides the fit: the coder kind and
its parameters, the codebook's hash, a digest of the training units (texts, codes, documents),
a digest of the coders' source code, the versions of qualcode, scikit-learn and NumPy, and
whether the sentence embedding is installed. Only files that qualcode wrote there itself are
read: the folder is made private (0700), and a file is loaded only when it belongs to this user
and nobody else may write it, and only from that folder, never from a project or a path someone
passes in. A damaged file is
dropped and the coder trained again.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

KEEP = 8  # cached coders kept; older ones are removed


def cache_dir() -> Path | None:
    value = os.environ.get("QUALCODE_CACHE_DIR")
    if value == "off":
        return None
    if value:
        return Path(value)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qualcode"


def cache_key(kind: str, params: dict[str, Any], codebook_hash: str, units: Any) -> str:
    import numpy
    import sklearn

    from qualcode import __version__
    from qualcode.coding.embedding import minilm_available

    digest = hashlib.sha256()
    for text, codes, group in zip(units.texts, units.labels, units.groups, strict=True):
        digest.update(json.dumps([text, sorted(codes), group]).encode("utf-8"))
    described = {
        "kind": kind,
        "params": params,
        "codebook": codebook_hash,
        "units": digest.hexdigest(),
        "versions": [__version__, sklearn.__version__, numpy.__version__],
        "source": _source_digest(),
        "minilm": minilm_available(),
    }
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=1)
def _source_digest() -> str:
    """A digest of the coders' own code, so that a changed coder is never loaded from a cache
    written by the code before the change (within one version number, as in development)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _models(folder: Path) -> Path:
    path = folder / "models"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    os.chmod(path, 0o700)
    return path


def _trusted(path: Path) -> bool:
    info = path.stat()
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load(key: str) -> Any | None:
    """The coder cached under ``key``, or None."""
    folder = cache_dir()
    if folder is None:
        return None
    path = folder / "models" / f"{key}.pkl"
    try:
        if not path.is_file() or not _trusted(path) or not _trusted(path.parent):
            return None
        with path.open("rb") as handle:
            # Safe only because qualcode wrote it, into a folder private to this user.
            coder = pickle.load(handle)
        os.utime(path)
        return coder
    except Exception:  # a damaged or incompatible file: train again
        path.unlink(missing_ok=True)
        return None


def save(key: str, coder: Any) -> None:
    """Cache a trained coder; a cache that cannot be written is skipped silently."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        models = _models(folder)
        with tempfile.NamedTemporaryFile(dir=models, suffix=".tmp", delete=False) as handle:
            pickle.dump(coder, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(handle.name, 0o600)
        os.replace(handle.name, models / f"{key}.pkl")
        for old in sorted(models.glob("*.pkl"), key=lambda p: p.stat().st_mtime)[:-KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        return
