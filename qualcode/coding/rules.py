"""RuleCoder: spaCy Matcher patterns from the codebook, with negation and near misses."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from qualcode.codebook import Codebook
from qualcode.coding.base import Assignment, Evidence, segment_texts
from qualcode.coding.matching import PatternIndex
from qualcode.coding.negation import Context, DocWords, context_of
from qualcode.coding.nlp import load_nlp

# Confidence of a code found by n distinct patterns: 1 - (1 - BASE) ** n, so one pattern gives
# 0.6, two 0.84, three 0.94. Rules are precise but blind to context beyond the clause.
BASE_CONFIDENCE = 0.6
# A prerequisite that is negated or wished for ("we never had a pooled budget", "if only we
# shared records") is evidence of its paired barrier, with less certainty.
FLIP_CONFIDENCE = 0.5


class RuleCoder(BaseEstimator):
    """Code segments with the codebook's spaCy token patterns.

    Parameters
    ----------
    codebook : Codebook
        Codes with ``patterns`` (and optional ``exclude_patterns``) over LEMMA/LOWER.
    spacy_model : str or None, default=None
        An installed spaCy pipeline to use instead of the offline default.
    negation : bool, default=True
        Drop negated barrier matches and turn negated or wished-for prerequisites into their
        paired barrier.
    batch_size : int, default=256
        Segments per ``nlp.pipe`` batch.
    """

    def __init__(self, codebook: Codebook, *, spacy_model=None, negation=True, batch_size=256):
        self.codebook = codebook
        self.spacy_model = spacy_model
        self.negation = negation
        self.batch_size = batch_size

    def fit(self, segments=None, codings=None) -> RuleCoder:
        """Compile the patterns (see ``qualcode.coding.matching``); rules learn nothing."""
        self.nlp_ = load_nlp(self.spacy_model)
        self.matcher_ = PatternIndex(self.nlp_.vocab)
        self.excluder_ = PatternIndex(self.nlp_.vocab)
        self.patterns_: dict[str, list[Any]] = {}
        for code in self.codebook.codable:
            for number, pattern in enumerate(code.patterns):
                key = f"{code.id}#{number}"
                self.matcher_.add(key, list(pattern))
                self.patterns_[key] = list(pattern)
            for pattern in code.exclude_patterns:
                self.excluder_.add(code.id, list(pattern))
        self.codes_ = sorted({key.split("#")[0] for key in self.patterns_})
        return self

    def predict(
        self, segments: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> list[list[Assignment]]:
        """Codes for each segment (strings or objects with ``.text``)."""
        check_is_fitted(self, "matcher_")
        texts = segment_texts(list(segments))
        results = []
        # Clauses are bounded by punctuation and clause words, which also end sentences, so the
        # sentencizer adds nothing here but time (a fifth of tokenising); it is skipped.
        skip = [
            name for name in ("sentencizer", "senter", "parser") if name in self.nlp_.pipe_names
        ]
        with self.nlp_.select_pipes(disable=skip):
            for doc in self.nlp_.pipe(texts, batch_size=self.batch_size):
                results.append(self._code_doc(doc))
                if progress:
                    progress(1)
        return results

    def _code_doc(self, doc) -> list[Assignment]:
        excluded: dict[str, list[tuple[int, int]]] = {}
        if len(self.excluder_):
            for code_id, start, end in self.excluder_(doc):
                excluded.setdefault(code_id, []).append((start, end))
        found: dict[str, dict[str, Any]] = {}
        words = None
        for key, start, end in self.matcher_(doc):
            code_id = key.split("#")[0]
            if any(s < end and start < e for s, e in excluded.get(code_id, ())):
                continue  # a near miss ("status quo", "charitable status") overlaps it
            words = words or DocWords.of(doc)
            self._add_match(found, code_id, key, doc[start:end], words)
        out = []
        for code_id, entry in found.items():
            confidence = (1 - (1 - BASE_CONFIDENCE) ** len(entry["keys"])) * entry["weight"]
            out.append(Assignment(code_id, round(min(confidence, 0.99), 4), entry["evidence"]))
        return sorted(out, key=lambda a: -a.confidence)

    def _add_match(
        self, found: dict[str, dict[str, Any]], code_id: str, key: str, span, words: DocWords
    ) -> None:
        """Record one pattern match after negation: a negated barrier is dropped; a negated or
        wished-for prerequisite becomes evidence of its paired barrier."""
        barrier = self.codebook.codes[code_id].polarity == "barrier"
        context, cue = (
            context_of(words, span.start, span.end, barrier=barrier)
            if self.negation
            else (Context.PLAIN, None)
        )
        target, why, weight = code_id, f"pattern {json.dumps(self.patterns_[key])}", 1.0
        if context is not Context.PLAIN:
            barrier = self.codebook.paired_barrier(code_id)
            if self.codebook.codes[code_id].polarity != "prerequisite" or not barrier:
                return  # a bare denial is never the barrier
            target = barrier
            weight = FLIP_CONFIDENCE / BASE_CONFIDENCE
            kind = "negated" if context is Context.NEGATED else "wished for"
            why = f"{kind} ({cue!r}) prerequisite {code_id}: {why}"
        entry = found.setdefault(target, {"keys": set(), "evidence": [], "weight": 0.0})
        entry["keys"].add(key)
        entry["weight"] = max(entry["weight"], weight)
        entry["evidence"].append(Evidence(span.start_char, span.end_char, why))
