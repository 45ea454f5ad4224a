"""RuleCoder: spaCy Matcher patterns from the codebook, with negation and near misses."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from spacy.lang.en.stop_words import STOP_WORDS

from qualcode.codebook import Codebook
from qualcode.coding.base import Assignment, Evidence, segment_texts
from qualcode.coding.matching import PatternIndex
from qualcode.coding.negation import ALTERNATIVE_CUES, Context, DocWords, clause_bounds, context_of
from qualcode.coding.nlp import load_nlp

# Confidence of a code found by n distinct patterns: 1 - (1 - BASE) ** n, so one pattern gives
# 0.6, two 0.84, three 0.94. Rules are precise but blind to context beyond the clause.
BASE_CONFIDENCE = 0.6
# A prerequisite that is negated, wished for or said to exist in name only ("we never had a
# pooled budget", "if only we shared records", "on paper it's a pooled budget") is evidence of
# its paired barrier, with less certainty.
FLIP_CONFIDENCE = 0.5


DENIED = ""  # where _code_doc collects the codes matched only as absent


class RuleResult(list):
    """One segment's Assignments, and ``denied``: the codes whose patterns matched only where
    the segment says they are absent (negated, in name only, wished for), never plainly. A
    coder that combines the rules with a model can lower the model's score for those."""

    denied: frozenset[str] = frozenset()


class RuleCoder(BaseEstimator):
    """Code segments with the codebook's spaCy token patterns.

    Parameters
    ----------
    codebook : Codebook
        Codes with ``patterns`` (and optional ``exclude_patterns``) over LEMMA/LOWER.
    spacy_model : str or None, default=None
        An installed spaCy pipeline to use instead of the offline default.
    negation : bool, default=True
        Drop negated or contrasted barrier matches and turn negated, contrasted ("on paper",
        "rather than") or wished-for prerequisites into their paired barrier.
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
        self._describe_patterns()
        return self

    def _describe_patterns(self) -> None:
        """Each pattern as a reader would say it (``terms_``) and the include criterion it
        answers (``criteria_``), for evidence."""
        self.terms_ = {key: pattern_term(p) for key, p in self.patterns_.items()}
        self.criteria_ = {
            key: closest_criterion(p, self.codebook.codes[key.split("#")[0]].include)
            for key, p in self.patterns_.items()
        }

    def predict(
        self, segments: Sequence[Any], progress: Callable[[int], None] | None = None
    ) -> list[RuleResult]:
        """Codes for each segment (strings or objects with ``.text``): a list of Assignments per
        segment, which also names (``denied``) the codes it mentions only as absent."""
        check_is_fitted(self, "matcher_")
        if not hasattr(self, "terms_"):  # fitted (and cached) before evidence named its rules
            self._describe_patterns()
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

    def _code_doc(self, doc) -> RuleResult:
        # The tokens each code's near misses cover, so a match is checked against them in time
        # that does not grow with how many there are in a long turn.
        excluded: dict[str, set[int]] = {}
        if len(self.excluder_):
            for code_id, start, end in self.excluder_(doc):
                excluded.setdefault(code_id, set()).update(range(start, end))
        found: dict[str, dict[str, Any]] = {}
        words = None
        contexts: dict[tuple[int, int, bool], tuple[Context, str | None]] = {}
        for key, start, end in self.matcher_(doc):
            code_id = key.split("#")[0]
            covered = excluded.get(code_id)
            if covered and not covered.isdisjoint(range(start, end)):
                continue  # a near miss ("status quo", "charitable status") overlaps it
            words = words or DocWords.of(doc)
            self._add_match(found, code_id, key, start, end, words, contexts)
        out = RuleResult()
        for code_id, entry in found.items():
            if code_id == DENIED:
                continue
            confidence = (1 - (1 - BASE_CONFIDENCE) ** len(entry["keys"])) * entry["weight"]
            evidence = self._evidence(doc, code_id, entry["spans"])
            out.append(Assignment(code_id, round(min(confidence, 0.99), 4), evidence))
        out.sort(key=lambda a: -a.confidence)
        out.denied = frozenset(found.get(DENIED, set()) - found.keys())
        return out

    def _add_match(
        self,
        found: dict[str, dict[str, Any]],
        code_id: str,
        key: str,
        start: int,
        end: int,
        words: DocWords,
        contexts: dict[tuple[int, int, bool], tuple[Context, str | None]],
    ) -> None:
        """Record one pattern match after negation: a negated or contrasted barrier is dropped;
        a negated, contrasted or wished-for prerequisite becomes evidence of its paired
        barrier. ``contexts`` keeps the context of each span already checked in this Doc."""
        barrier = self.codebook.codes[code_id].polarity == "barrier"
        context, cue = Context.PLAIN, None
        if self.negation:
            span = (start, end, barrier)
            if span not in contexts:
                contexts[span] = context_of(words, start, end, barrier=barrier)
            context, cue = contexts[span]
        target, weight = code_id, 1.0
        if context is not Context.PLAIN:
            found.setdefault(DENIED, set()).add(code_id)
            barrier = self.codebook.paired_barrier(code_id)
            if self.codebook.codes[code_id].polarity != "prerequisite" or not barrier:
                return  # a bare denial is never the barrier
            target = barrier
            weight = FLIP_CONFIDENCE / BASE_CONFIDENCE
        entry = found.setdefault(target, {"keys": set(), "spans": {}, "weight": 0.0})
        entry["keys"].add(key)
        entry["weight"] = max(entry["weight"], weight)
        span = _phrase(words, start, end)
        reasons = entry["spans"].setdefault(span, [])
        reason = (key, context, cue)
        if reason not in reasons:
            reasons.append(reason)

    def _evidence(
        self, doc, code_id: str, spans: dict[tuple[int, int], list[tuple[str, Context, str]]]
    ) -> list[Evidence]:
        """One piece of evidence per phrase (overlapping matches joined), with a readable
        reason: the code's name, the rule's term and the include criterion it answers."""
        merged: list[list[Any]] = []
        for (start, end), reasons in sorted(spans.items()):
            if merged and start < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
                merged[-1][2] += [r for r in reasons if r not in merged[-1][2]]
            else:
                merged.append([start, end, list(reasons)])
        out = []
        for start, end, reasons in merged:
            span = doc[start:end]
            out.append(Evidence(span.start_char, span.end_char, self._why(code_id, reasons)))
        return out

    def _why(self, code_id: str, reasons: list[tuple[str, Context, str]]) -> str:
        code = self.codebook.codes[code_id]
        parts = []
        for key, context, cue in reasons:
            source = key.split("#")[0]
            rule = f'rule "{self.terms_[key]}"'
            if context is not Context.PLAIN:
                label = self.codebook.codes[source].label
                how = CONTEXT_WORDS[context]
                if context is Context.CONTRAST and cue.lower() in ALTERNATIVES:
                    how = "set aside by"
                rule = f'its prerequisite {label} ({source}) {how} "{cue}", {rule}'
            if rule not in parts:
                parts.append(rule)
        criteria = []
        for key, _, _ in reasons:
            criterion = self.criteria_.get(key)
            if criterion and criterion not in criteria:
                criteria.append(criterion)
        why = f"{code.label} ({code_id}): " + "; ".join(parts)
        if criteria:
            why += "; include: " + "; ".join(f'"{c}"' for c in criteria[:2])
        return why


CONTEXT_WORDS = {
    Context.NEGATED: "negated by",
    Context.WISH: "wished for with",
    Context.CONTRAST: "in name only, after",
}
ALTERNATIVES = {" ".join(cue) for cue in ALTERNATIVE_CUES}


def _phrase(words: DocWords, start: int, end: int) -> tuple[int, int]:
    """A match that ends on a function word ("pooled the", "share an") reaches on to the next
    word or two of its clause ("pooled the lot"), so the evidence reads as a phrase."""
    doc = words.doc
    _, clause_end = clause_bounds(words, start, end)
    limit = min(clause_end, end + 2)
    while end < limit and doc[end - 1].is_stop and not (doc[end].is_punct or doc[end].is_space):
        end += 1
    return start, end


def pattern_term(pattern: list[dict[str, Any]]) -> str:
    """A token pattern as a reader would say it: "pooled/pooling/pool budget/fund/funding/…";
    optional tokens in brackets, any word as "…"."""
    out = []
    for spec in pattern:
        values: list[str] = []
        for name, value in spec.items():
            if name in TERM_ATTRS:
                items = value.get("IN", []) if isinstance(value, dict) else [value]
                values = [str(v) for v in items]
                break
        word = "/".join(values[:MAX_ALTERNATIVES])
        if len(values) > MAX_ALTERNATIVES:
            word += "/…"
        word = word or "…"
        op = spec.get("OP")
        if op in ("?", "*"):
            word = f"({word})"
        if op in ("*", "+"):
            word += "…"
        if op == "!":
            word = f"not {word}"
        out.append(word)
    return " ".join(out)


TERM_ATTRS = ("LEMMA", "LOWER", "ORTH", "TEXT", "NORM")
MAX_ALTERNATIVES = 3
CRITERION_CHARS = 80


def _stems(words) -> set[str]:
    return {w[:5] for w in words if len(w) > 2 and w not in STOP_WORDS}


def closest_criterion(pattern: list[dict[str, Any]], include: Sequence[str]) -> str | None:
    """The include criterion sharing most word stems with the pattern's words (first on a tie),
    shortened; None when none shares any."""
    values = []
    for spec in pattern:
        for name, value in spec.items():
            if name in TERM_ATTRS:
                values += value.get("IN", []) if isinstance(value, dict) else [value]
    stems = _stems(str(v).lower() for v in values)
    best, overlap = None, 0
    for criterion in include:
        shared = len(stems & _stems(re.findall(r"[a-z]+", criterion.lower())))
        if shared > overlap:
            best, overlap = criterion, shared
    if best is None:
        return None
    best = best.rstrip(".")
    if len(best) > CRITERION_CHARS:
        best = best[:CRITERION_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return best
