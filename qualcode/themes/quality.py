"""Topic quality: NPMI coherence over the corpus and topic diversity."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
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
    counts = Cooccurrence(w for t in topics for w in t)
    counts.add(documents)
    return counts.npmi(topics)


class Cooccurrence:
    """Document frequencies of some words (and n-grams up to three words) and of each pair of
    them, counted a chunk of documents at a time: NPMI over 500,000 responses without holding
    them. ``npmi(topics)`` scores topics whose words are among those counted."""

    def __init__(self, words: Iterable[str]) -> None:
        self.words = sorted(set(words))
        self.index = {w: i for i, w in enumerate(self.words)}
        longest = max((len(w.split()) for w in self.words), default=1)
        self.vectorizer = CountVectorizer(
            vocabulary=self.words or ["-"],
            ngram_range=(1, min(3, longest)),  # no longer n-grams than the words: a third faster
            binary=True,
            token_pattern=TOKEN_PATTERN,
            lowercase=True,
        )
        self.documents = 0
        self.together = np.zeros((len(self.words), len(self.words)), dtype=np.int64)

    def add(self, documents: Sequence[str]) -> None:
        self.documents += len(documents)
        if self.words and len(documents):
            x = self.vectorizer.transform(documents).astype(np.int64)
            self.together += (x.T @ x).toarray()

    def npmi(self, topics: Sequence[Sequence[str]]) -> float | None:
        n = self.documents
        if not n or not any(topics):
            return None
        df = np.diagonal(self.together)
        scores = []
        for topic in topics:
            pairs = []
            for a, b in combinations(topic, 2):
                i, j = self.index[a], self.index[b]
                p_a, p_b = df[i] / n, df[j] / n
                p_ab = self.together[i, j] / n
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
