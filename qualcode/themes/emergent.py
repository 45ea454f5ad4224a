"""Which topics the codebook does not name: distance from the codes' own words.

Coders put the nearest code on talk the codebook does not name (consultation overload gets
"tokenism", an overloaded link worker "boundary spanners"), so the share of a topic's segments
carrying a code says little about whether the codebook covers it. What does is how close the
topic's talk is to the codebook's own text: each codable code's label, definition, include
criteria and examples, embedded like the segments. A segment's *codebook fit* is its cosine
similarity to the nearest code; a topic whose segments fit the codebook worse, on average, than
the modelled corpus does is an emergent-theme candidate. So is a topic few of whose segments a
coder coded at all. ``benchmarks/themes_quality.py`` measures this rule against the demo
corpus's planted themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qualcode.codebook import Codebook
from qualcode.themes.text import clean

# A topic whose mean codebook fit is below FIT_RATIO x the corpus's mean fit is a candidate;
# so is one with less than EMERGENT_COVERAGE of its coded segments carrying any code.
FIT_RATIO = 1.0
EMERGENT_COVERAGE = 0.5
FIT_BLOCK = 20_000  # segments whose codebook fit is computed at once


def code_texts(codebook: Codebook) -> dict[str, str]:
    """Each codable code's own words: label, definition, include criteria and examples."""
    return {
        code.id: clean(" ".join([code.label, code.definition or "", *code.include, *code.examples]))
        for code in codebook.codable
    }


@dataclass(frozen=True, slots=True)
class CodebookFit:
    """Segments' similarity to the nearest code, in the topic model's embedding space."""

    code_ids: list[str]
    similarity: np.ndarray  # segments x codes, cosine (both sides unit length)

    @classmethod
    def of(cls, vectors: np.ndarray, code_vectors: np.ndarray, code_ids: Sequence[str]):
        return cls(list(code_ids), similarity(vectors, _unit(np.asarray(code_vectors, float))))

    @property
    def per_segment(self) -> np.ndarray:
        return self.similarity.max(axis=1)

    @property
    def corpus(self) -> float:
        return float(self.per_segment.mean())

    def topic(self, members: Sequence[int]) -> float:
        return float(self.per_segment[list(members)].mean())

    def nearest_code(self, members: Sequence[int]) -> str:
        """The code whose words the topic's segments are closest to on average."""
        return self.code_ids[int(self.similarity[list(members)].mean(axis=0).argmax())]


class TopicFit:
    """``CodebookFit`` summed per topic, a chunk of segments at a time (``add``): the corpus's
    mean fit, and each topic's mean fit and nearest code, with no segments x codes matrix."""

    def __init__(self, code_vectors: np.ndarray, code_ids: Sequence[str]) -> None:
        self.code_ids = list(code_ids)
        self.codes = _unit(np.asarray(code_vectors, dtype=float))
        self.segments = 0
        self.total = 0.0
        # row t + 1 for topic t (row 0: the outliers): segments, summed best fit, summed fits
        self.count = np.zeros(0, dtype=np.int64)
        self.best = np.zeros(0)
        self.sums = np.zeros((0, len(self.code_ids)))

    def add(self, vectors: np.ndarray, topics: np.ndarray) -> None:
        fits = similarity(vectors, self.codes)
        best = fits.max(axis=1)
        self.segments += len(best)
        self.total += float(best.sum())
        rows = np.asarray(topics, dtype=np.int64) + 1
        grow = int(rows.max(initial=0)) + 1 - len(self.count)
        if grow > 0:
            self.count = np.concatenate([self.count, np.zeros(grow, dtype=np.int64)])
            self.best = np.concatenate([self.best, np.zeros(grow)])
            self.sums = np.vstack([self.sums, np.zeros((grow, len(self.code_ids)))])
        np.add.at(self.count, rows, 1)
        np.add.at(self.best, rows, best)
        np.add.at(self.sums, rows, fits)

    @property
    def corpus(self) -> float:
        return self.total / self.segments if self.segments else 0.0

    def topic(self, topic: int) -> float:
        return float(self.best[topic + 1] / self.count[topic + 1])

    def nearest_code(self, topic: int) -> str:
        return self.code_ids[int(self.sums[topic + 1].argmax())]


def similarity(vectors: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Cosine similarity of each segment to each code (``codes`` already unit length), a block
    of segments at a time: never a second copy of every segment's vector."""
    out = np.empty((len(vectors), len(codes)))
    for at in range(0, len(vectors), FIT_BLOCK):
        block = _unit(np.asarray(vectors[at : at + FIT_BLOCK], dtype=float))
        out[at : at + FIT_BLOCK] = block @ codes.T
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def judge(
    fit: float,
    corpus_fit: float,
    coverage: float | None,
    nearest: str | None = None,
    ratio: float = FIT_RATIO,
    min_coverage: float = EMERGENT_COVERAGE,
) -> tuple[bool, str]:
    """Whether a topic is an emergent-theme candidate, and why (a sentence for a reader)."""
    if coverage is not None and coverage < min_coverage:
        return True, f"only {coverage:.0%} of its segments carry any codebook code"
    relative = fit / corpus_fit if corpus_fit > 0 else 0.0
    if relative < ratio:
        return True, (
            f"its talk is further from the codebook's own words than the corpus's is"
            f" (codebook fit {relative:.2f} of the corpus's)"
        )
    near = f"; nearest code {nearest}" if nearest else ""
    return False, (
        f"close to the codebook's own words (codebook fit {relative:.2f} of the corpus's{near})"
    )
