"""Topic quality: NPMI coherence over the corpus and topic diversity."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from qualcode.themes.text import TOKEN_PATTERN


def npmi_coherence(topics: Sequence[Sequence[str]], documents: Sequence[str]) -> float | None:
    """Mean normalised pointwise mutual information of each topic's word pairs.

    Probabilities are document frequencies over ``documents`` (a word pair "co-occurs" when
    both appear in one document). A pair that never co-occurs scores -1, one that always does
    +1; 0 is independence. Returns None when no topic has two words.
    """
    words = sorted({w for t in topics for w in t})
    if not words or not documents:
        return None
    vectorizer = CountVectorizer(
        vocabulary=words,
        ngram_range=(1, 3),
        binary=True,
        token_pattern=TOKEN_PATTERN,
        lowercase=True,
    )
    x = vectorizer.transform(documents).tocsc().astype(bool)
    n = x.shape[0]
    index = {w: i for i, w in enumerate(words)}
    scores = []
    for topic in topics:
        pairs = []
        for a, b in combinations(topic, 2):
            ca, cb = x[:, index[a]], x[:, index[b]]
            p_a, p_b = ca.sum() / n, cb.sum() / n
            p_ab = ca.multiply(cb).sum() / n
            if p_a == 0 or p_b == 0:
                continue
            if p_ab == 0:
                pairs.append(-1.0)
            elif p_ab == 1:
                pairs.append(1.0)
            else:
                pairs.append(math.log(p_ab / (p_a * p_b)) / -math.log(p_ab))
        if pairs:
            scores.append(float(np.mean(pairs)))
    return float(np.mean(scores)) if scores else None


def topic_diversity(topics: Sequence[Sequence[str]]) -> float | None:
    """Share of distinct words among all topics' top words (1: no word shared by two topics)."""
    total = sum(len(t) for t in topics)
    return len({w for t in topics for w in t}) / total if total else None
