"""ModelCoder: word and character n-gram TF-IDF into one logistic regression per code.

Trained on human codings (and the codebook's own examples and near misses), deterministic, and
retrained in seconds on first use: no pickled models are shipped or loaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

from qualcode.codebook import Codebook
from qualcode.coding.base import Assignment, Evidence, segment_texts
from qualcode.coding.negation import mark_negation


def word_vectorizer(*, min_df: int = 1, max_features: int | None = None) -> TfidfVectorizer:
    """Word uni- and bigrams of negation-marked text (``mark_negation``), sublinear TF-IDF: the
    word features of the model coder and of the family coder."""
    return TfidfVectorizer(
        preprocessor=mark_negation,
        token_pattern=r"[^\s]+",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
    )


class ModelCoder(BaseEstimator):
    """Multi-label classifier over codes, one balanced logistic regression per code.

    Parameters
    ----------
    codebook : Codebook
        Its codable codes are the labels; its examples and near misses are extra training data.
    C : float, default=2.0
        Inverse regularisation of each logistic regression.
    min_examples : int, default=8
        A code with fewer positive training texts (human codings plus codebook examples) is not
        predicted; ``skipped_`` lists such codes.
    use_codebook_examples : bool, default=True
        Add each code's examples as positives and its near misses as negatives for that code.
    threshold : float or None, default=None
        One threshold for every code; None uses ``thresholds_`` (tuned by cross-validation when
        ``fit`` is given groups) or 0.5.
    random_state : int, default=0
    """

    def __init__(
        self,
        codebook: Codebook,
        *,
        C=2.0,
        min_examples=8,
        use_codebook_examples=True,
        threshold=None,
        random_state=0,
    ):
        self.codebook = codebook
        self.C = C
        self.min_examples = min_examples
        self.use_codebook_examples = use_codebook_examples
        self.threshold = threshold
        self.random_state = random_state

    # -- training -----------------------------------------------------------------------
    def _training_data(
        self, texts: list[str], labels: list[set[str]]
    ) -> tuple[list[str], list[set[str]], list[str | None]]:
        """Human-coded texts, then codebook examples; the third list names, for a near miss,
        the one code it is a negative for (it says nothing about the other codes)."""
        all_texts, all_labels, only = list(texts), [set(y) for y in labels], [None] * len(texts)
        if self.use_codebook_examples:
            for code in self.codebook.codable:
                for example in code.examples:
                    all_texts.append(example)
                    all_labels.append({code.id})
                    only.append(None)
                for near in code.near_misses:
                    all_texts.append(near)
                    all_labels.append(set())
                    only.append(code.id)
        return all_texts, all_labels, only

    def fit(self, texts: Sequence[Any], labels: Sequence[set[str]], groups=None) -> ModelCoder:
        """Fit on texts and their sets of code ids.

        With ``groups`` (one document id per text), per-code thresholds are tuned on
        out-of-fold probabilities, grouped by document so no document scores itself.
        """
        texts = segment_texts(list(texts))
        labels = [set(y) for y in labels]
        unknown = {c for y in labels for c in y} - {c.id for c in self.codebook.codable}
        if unknown:
            raise ValueError(f"codes not in the codebook: {sorted(unknown)}")
        self._fit_core(texts, labels)
        self.thresholds_ = dict.fromkeys(self.codes_, 0.5)
        if groups is not None and len(set(groups)) >= 3:
            self.thresholds_ = self._tuned_thresholds(texts, labels, list(groups))
        return self

    def _fit_core(self, texts: list[str], labels: list[set[str]]) -> None:
        all_texts, all_labels, only = self._training_data(texts, labels)
        self.word_ = word_vectorizer()
        self.char_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2, max_features=60000
        )
        x = self._stack(self.word_.fit_transform(all_texts), self.char_.fit_transform(all_texts))
        self.codes_, self.skipped_, self.models_ = [], {}, {}
        for code in self.codebook.codable:
            y = np.array([code.id in ls for ls in all_labels], dtype=int)
            positives = int(y.sum())
            if positives < self.min_examples:
                self.skipped_[code.id] = positives
                continue
            # A near miss is a negative only for its own code.
            weight = np.array([1.0 if o is None or o == code.id else 0.0 for o in only])
            # liblinear: four times faster than lbfgs on these small sparse problems, and
            # deterministic for a fixed random_state.
            model = LogisticRegression(
                C=self.C,
                class_weight="balanced",
                solver="liblinear",
                max_iter=2000,
                random_state=self.random_state,
            )
            model.fit(x, y, sample_weight=weight)
            self.models_[code.id] = model
            self.codes_.append(code.id)
        self._stacked = None  # derived from the models on first use (``_coefficients``)
        self.n_word_features_ = len(self.word_.vocabulary_)
        self.word_terms_ = self.word_.get_feature_names_out()

    @staticmethod
    def _stack(word, char):
        return sparse.hstack([word, char]).tocsr()

    def _tuned_thresholds(
        self, texts: list[str], labels: list[set[str]], groups: list[str]
    ) -> dict[str, float]:
        from qualcode.coding.evaluate import best_thresholds, out_of_fold

        probabilities = out_of_fold(
            lambda: ModelCoder(**self.get_params()), texts, labels, groups, folds=3
        )
        return best_thresholds(probabilities, labels, self.codes_)

    # -- prediction ---------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[Any]) -> list[dict[str, float]]:
        """Probability of each predicted code for each text: the highest over the whole text,
        each sentence and each pair of sentences.

        A long answer usually carries several codes, each in a sentence or two; scored as a
        whole, one code's words are diluted by the rest. Codebook examples are sentence-sized,
        so a sentence scored alone looks like what the model learnt from.
        """
        return self.scores_and_words(texts)[0]

    def scores_and_words(self, texts: Sequence[Any]):
        """``predict_proba`` and, for evidence, the word features of each whole text (computed
        once, as the first window of each text)."""
        check_is_fitted(self, "models_")
        texts = segment_texts(list(texts))
        if not texts:
            return [], None
        pieces, whole, sentences, parts = [], [], [], []
        for text in texts:
            whole.append(len(pieces))
            windows, spans = _windows_of_sentences(text, len(sentences))
            pieces.extend(windows)
            sentences.extend(spans[0])
            parts.extend(spans[1])
        join = _join_matrix(parts, len(sentences))
        x = self._stack(
            self._word_features(sentences, parts, join), self._char_features(sentences, join)
        )
        # each text's pieces are consecutive rows, starting at ``whole``: its best per code
        best = np.maximum.reduceat(self._probabilities(x), whole, axis=0).tolist()
        codes = list(self.models_)
        out = [dict(zip(codes, row, strict=True)) for row in best]
        return out, WordRows(x[whole, : self.n_word_features_])

    def _char_features(self, sentences: list[str], join):
        """The character n-gram TF-IDF of every piece, counted once per sentence: char_wb
        n-grams never cross a word, so a piece's counts are the sum of its sentences' (what
        ``self.char_.transform(pieces)`` gives, at a third of the cost)."""
        counts = CountVectorizer.transform(self.char_, sentences).astype(np.float64)
        return _tfidf(self.char_, join @ counts)

    def _word_features(self, sentences: list[str], parts: list[list[int]], join):
        """The word n-gram TF-IDF of every piece, counted once per sentence. A sentence ends
        in ``.``, ``!`` or ``?`` (where the pieces are split), a token of its own that ends any
        negation's scope, so a piece's negation marks are its sentences' and its uni- and
        bigrams are theirs plus the bigrams that join them, added here (what
        ``self.word_.transform(pieces)`` gives: ``tests/test_scale.py`` checks)."""
        counts = CountVectorizer.transform(self.word_, sentences).astype(np.float64)
        tokens = [mark_negation(s).split() for s in sentences]
        vocabulary = self.word_.vocabulary_
        rows, cols = [], []
        for row, part in enumerate(parts):
            last = None
            for j in part:
                if not tokens[j]:
                    continue
                if last is not None:
                    col = vocabulary.get(f"{last} {tokens[j][0]}")
                    if col is not None:
                        rows.append(row)
                        cols.append(col)
                last = tokens[j][-1]
        joins = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(parts), len(vocabulary))
        )
        return _tfidf(self.word_, join @ counts + joins)

    def _probabilities(self, x) -> np.ndarray:
        """Each code model's probability for each row of ``x``: one sparse product for all
        codes (a binary logistic regression's ``predict_proba`` is the sigmoid of its decision
        function)."""
        if not self.models_:
            return np.zeros((x.shape[0], 0))
        weights, bias = self._coefficients()
        return expit(x @ weights + bias)

    def _coefficients(self) -> tuple[np.ndarray, np.ndarray]:
        """Every code model's coefficients as one (features x codes) matrix, and the
        intercepts, in ``codes_`` order: derived from ``models_`` once per process, and never
        pickled (it would double the coder in the cache and on its way to Dask workers)."""
        if getattr(self, "_stacked", None) is None:
            models = list(self.models_.values())
            self._stacked = (
                np.vstack([m.coef_[0] for m in models]).T,
                np.array([m.intercept_[0] for m in models]),
            )
        return self._stacked

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state.pop("_stacked", None)
        return state

    def threshold_for(self, code: str) -> float:
        return self.threshold if self.threshold is not None else self.thresholds_.get(code, 0.5)

    def predict(
        self, segments: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> list[list[Assignment]]:
        texts = segment_texts(list(segments))
        results = []
        for start in range(0, len(texts), 512):
            batch = texts[start : start + 512]
            scores, x_word = self.scores_and_words(batch)
            for i, probs in enumerate(scores):
                chosen = [
                    Assignment(code, round(p, 4), self.evidence(batch[i], x_word[i], code))
                    for code, p in probs.items()
                    if p >= self.threshold_for(code)
                ]
                results.append(sorted(chosen, key=lambda a: -a.confidence))
            if progress:
                progress(len(batch))
        return results

    def evidence(self, text: str, words: WordRow, code: str, top: int = 5) -> list[Evidence]:
        """The words that pushed this code up most, located in the text (``words``: the text's
        word features, a row of ``scores_and_words``)."""
        columns, values = words
        weights = values * self._coefficients()[0][columns, self.codes_.index(code)]
        out: list[Evidence] = []
        # heaviest first, ties to the later column (as sorting (weight, column) pairs would)
        for k in np.lexsort((-columns, -weights)).tolist():
            weight = float(weights[k])
            if weight <= 0 or len(out) >= top:
                break
            term = str(self.word_terms_[columns[k]])
            if _says_nothing(term):
                continue  # "the", "i", "been" carry weight but explain nothing to a reader
            span = _locate(text, term)
            if span:
                out.append(Evidence(span[0], span[1], f"term '{term}' (+{weight:.2f})"))
        return out


# A text's word features for evidence: the columns and values of its row.
WordRow = tuple[np.ndarray, np.ndarray]


class WordRows:
    """The rows of a CSR matrix as (columns, values), without scipy's slow row indexing."""

    def __init__(self, matrix) -> None:
        self.matrix = matrix.tocsr()

    def __getitem__(self, i: int) -> WordRow:
        m = self.matrix
        start, end = m.indptr[i], m.indptr[i + 1]
        return m.indices[start:end], m.data[start:end]


@lru_cache(maxsize=65536)
def _says_nothing(term: str) -> bool:
    words = [w.removeprefix("not_") for w in term.split()]
    return all(w in ENGLISH_STOP_WORDS or len(w) < 3 for w in words)


SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _join_matrix(parts: list[list[int]], n: int):
    """A (pieces x sentences) matrix with a 1 where a piece is made of a sentence."""
    rows = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    cols = np.fromiter((j for p in parts for j in p), dtype=np.int64, count=len(rows))
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(parts), n))


def _tfidf(vectorizer: TfidfVectorizer, counts):
    """What a fitted TfidfVectorizer makes of these term counts (sublinear tf, idf, norm)."""
    x = sparse.csr_matrix(counts)
    x.sort_indices()
    if vectorizer.sublinear_tf:
        np.log(x.data, out=x.data)
        x.data += 1
    x.data *= vectorizer.idf_[x.indices]
    return normalize(x, norm=vectorizer.norm, copy=False)


def _windows_of_sentences(text: str, first: int) -> tuple[list[str], tuple[list[str], list]]:
    """The pieces a text is scored in: the text, its sentences and its pairs of adjacent
    sentences; and its sentences with, for each piece, the positions of the sentences it is
    made of (numbered from ``first``)."""
    sentences = [s for s in SENTENCE_END.split(text) if s.strip()]
    if len(sentences) <= 1:
        return [text], ([text], [[first]])
    pairs = [f"{a} {b}" for a, b in pairwise(sentences)]
    n = len(sentences)
    parts = [
        list(range(first, first + n)),
        *([first + j] for j in range(n)),
        *([first + j, first + j + 1] for j in range(n - 1)),
    ]
    return [text, *sentences, *pairs], (sentences, parts)


def _locate(text: str, term: str) -> tuple[int, int] | None:
    """Character span of a (possibly negation-marked) n-gram in the original text."""
    pattern = _term_pattern(term)
    m = pattern.search(text) if pattern else None
    return (m.start(), m.end()) if m else None


@lru_cache(maxsize=65536)
def _term_pattern(term: str) -> re.Pattern[str] | None:
    """The compiled pattern of a vocabulary term, once per term (a corpus of any size meets the
    same few thousand)."""
    words = [w.removeprefix("not_") for w in term.split()]
    if not words or not all(re.fullmatch(r"\w+(?:'\w+)?", w) for w in words):
        return None
    return re.compile(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"\b", re.IGNORECASE)
