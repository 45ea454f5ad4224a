"""RuleCoder: spaCy Matcher patterns from the codebook, with negation and near misses."""

from __future__ import annotations

import gc
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice, pairwise, repeat
from typing import Any

import numpy
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.tokens import Doc

from qualcode.codebook import Codebook
from qualcode.coding import scan
from qualcode.coding.base import Assignment, Evidence, segment_texts
from qualcode.coding.chunks import ChunkTokens
from qualcode.coding.matching import PatternIndex
from qualcode.coding.negation import ALTERNATIVE_CUES, Context
from qualcode.coding.nlp import LOOKUP_LEMMATIZER, load_nlp

# Confidence of a code found by n distinct patterns: 1 - (1 - BASE) ** n, so one pattern gives
# 0.6, two 0.84, three 0.94. Rules are precise but blind to context beyond the clause.
BASE_CONFIDENCE = 0.6
# A prerequisite that is negated, wished for or said to exist in name only ("we never had a
# pooled budget", "if only we shared records", "on paper it's a pooled budget") is evidence of
# its paired barrier, with less certainty.
FLIP_CONFIDENCE = 0.5


# One rule coder codes at a time in a process. Coding changes the coder's tables (the words and
# chunks seen), the pipeline's enabled components and the cycle collector's state, none of which
# may be shared by two threads at once (a Dask worker with several threads runs several batches
# on the one coder it was sent); the compiled code and spaCy hold Python's lock anyway, so
# threads lose nothing by waiting.
CODING = threading.Lock()


@contextmanager
def collector_paused():
    """Python's cycle collector off while coding, as it was after. Coding makes a few small
    objects per word (Docs, Assignments, Evidence, tuples), none of them in a cycle (a test
    checks), so reference counting frees all it should; the collector, woken every 700 new
    objects, only walked everything alive again and again, the whole heap (0.15 s with spaCy
    and scikit-learn loaded) every few hundred thousand: a third of the rule coder's time on
    long text."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _confidence(patterns: int, plain: bool) -> float:
    """A code's confidence from how many distinct patterns found it, and whether any found it
    plainly (else only as its prerequisite's absence)."""
    weight = 1.0 if plain else FLIP_CONFIDENCE / BASE_CONFIDENCE
    return round(min((1 - (1 - BASE_CONFIDENCE) ** patterns) * weight, 0.99), 4)


# The contexts in ``scan``'s numbering.
CONTEXTS = (Context.PLAIN, Context.NEGATED, Context.WISH, Context.CONTRAST)


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
        # With the offline pipeline's lookup lemmas, a LEMMA is matched on the lower-case form
        # (the lookup turned round), and coding skips the lemmatiser.
        self.matcher_ = PatternIndex(
            self.nlp_.vocab,
            list(scan.TOKEN_ATTRS),
            lemmas_from_lower=LOOKUP_LEMMATIZER in self.nlp_.pipe_names,
        )
        self.patterns_: dict[str, list[Any]] = {}
        for code in self.codebook.codable:
            for number, pattern in enumerate(code.patterns):
                key = f"{code.id}#{number}"
                self.matcher_.add(key, code.id, list(pattern))
                self.patterns_[key] = list(pattern)
            for pattern in code.exclude_patterns:
                self.matcher_.add(code.id, code.id, list(pattern), exclude=True)
        self.codes_ = sorted({key.split("#")[0] for key in self.patterns_})
        self._describe_patterns()
        self.chunks_ = self._chunk_tokens()
        # What the compiled pass needs to know of the codes, by number.
        self.code_ids_ = list(self.codebook.codes)
        number = {code_id: i for i, code_id in enumerate(self.code_ids_)}
        codes = [self.codebook.codes[code_id] for code_id in self.code_ids_]

        def array(values) -> numpy.ndarray:
            return numpy.array(values, dtype=numpy.int64)

        self.code_names_ = numpy.array(self.code_ids_, dtype=object)
        # a code's confidence by how many distinct patterns found it, and whether any plainly
        self.confidence_ = numpy.array(
            [[_confidence(n, False), _confidence(n, True)] for n in range(len(self.patterns_) + 1)]
        )
        self.code_tables_ = (
            array([number[code] for code in self.matcher_.key_code]),
            array(self.matcher_.key_exclude),
            array([c.polarity == "barrier" for c in codes]),
            array([c.polarity == "prerequisite" for c in codes]),
            array([number.get(self.codebook.paired_barrier(c.id), -1) for c in codes]),
        )
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
        check_is_fitted(self, "code_tables_")
        texts = segment_texts(list(segments))
        results: list[RuleResult] = []
        whys: dict[Any, str] = {}  # reasons already put in words, this run
        with CODING, self.nlp_.select_pipes(disable=self._skipped()), collector_paused():
            for kept, own, batch in self._batches(texts):
                results += self._code_batch(kept, own, batch, whys)
                if progress:
                    progress(len(batch))
        return results

    def _batches(
        self, texts: list[str]
    ) -> Iterator[tuple[list[Doc], tuple[numpy.ndarray, numpy.ndarray], list[str]]]:
        """The texts a batch at a time, with their tokens' own columns and counts: read chunk by
        chunk when coding needs no Doc (``chunks_``), else from the Docs spaCy makes, which are
        kept only when spaCy's Matcher has patterns to run on them."""
        if self.chunks_ is not None:
            for first in range(0, len(texts), self.batch_size):
                batch = texts[first : first + self.batch_size]
                yield [], self.chunks_.batch(batch), batch
            return
        # With no component left to run, the tokenizer alone makes the same Docs.
        pipe = self.nlp_.pipe if self.nlp_.pipe_names else self.nlp_.tokenizer.pipe
        docs = pipe(texts, batch_size=self.batch_size)
        table = self.matcher_.words()
        keep = len(self.matcher_.fallback) > 0
        for first in range(0, len(texts), self.batch_size):
            own, kept = [], []
            for doc in islice(docs, self.batch_size):
                own.append(table.own(doc))
                if keep:
                    kept.append(doc)
            yield kept, table.stack(own), texts[first : first + len(own)]

    def _skipped(self) -> list[str]:
        """The pipeline's components that coding skips. Clauses are bounded by punctuation and
        clause words, which also end sentences, so the sentencizer adds nothing here but time (a
        fifth of tokenising). The lemmatiser too when lemmas are matched on the lower-case form,
        unless spaCy's own Matcher has patterns to match (it reads lemmas)."""
        skip = ["sentencizer", "senter", "parser"]
        if self.matcher_.lemmas_from_lower and not len(self.matcher_.fallback):
            skip.append(LOOKUP_LEMMATIZER)
        return [name for name in skip if name in self.nlp_.pipe_names]

    def _chunk_tokens(self) -> ChunkTokens | None:
        """The tokens read chunk by chunk (``qualcode.coding.chunks``), when coding needs no
        Doc: no component left to run, no pattern for spaCy's Matcher, and only columns the
        chunks give."""
        table = self.matcher_.words()
        attrs = [self.matcher_.columns[j] for j in table.token_cols]
        tokenizer = self.nlp_.tokenizer
        if (
            set(self.nlp_.pipe_names) - set(self._skipped())
            or len(self.matcher_.fallback)
            or not ChunkTokens.can_read(tokenizer, attrs)
        ):
            return None
        return ChunkTokens(tokenizer, attrs)

    def _code_batch(
        self,
        docs: list[Doc],
        own: tuple[numpy.ndarray, numpy.ndarray],
        texts: list[str],
        whys: dict[Any, str],
    ) -> list[RuleResult]:
        """Code a batch of texts, given their tokens' own columns and counts (``_batches``; the
        Docs themselves only when spaCy's Matcher has patterns), in compiled passes
        (``qualcode.coding.scan``): match, put each match in its context, merge; then put the
        codes, evidence and reasons into Assignments."""
        index = self.matcher_
        mat, offsets, matches = index.batch(docs, own)
        cues = scan.cue_words()
        kernels = scan.kernels()
        rows, denied = kernels.contexts(
            matches,
            self.code_tables_,
            kernels.word_classes(cues.words, cues.bits, mat),
            cues.tables,
            cues.lengths,
            bool(self.negation),
            mat,
            offsets,
        )
        # by Doc, code (in the order found), phrase start and end; ties stay in match order
        rows = rows[numpy.lexsort((rows[:, 5], rows[:, 4], rows[:, 1], rows[:, 0]))]
        codes, evidence, reasons = kernels.merge(rows, len(index.keys))
        # Each Doc's codes by confidence, highest first (ties in the order found).
        confidence = self.confidence_[codes[:, 2], codes[:, 3]]
        order = numpy.lexsort((numpy.arange(len(codes)), -confidence, codes[:, 0]))
        doc_ptr = numpy.searchsorted(codes[order, 0], numpy.arange(len(texts) + 1)).tolist()
        # Each code's evidence spans in order, each span's reasons in order.
        code_ptr = numpy.concatenate(([0], numpy.cumsum(codes[:, 4])))
        ev_ptr = numpy.concatenate(([0], numpy.cumsum(evidence[:, 2])))
        ev_code = numpy.repeat(numpy.arange(len(codes)), codes[:, 4])
        # Character offsets (spaCy keeps every character of a Doc's text): of each evidence span,
        # from its first token's start to its last token's end, and of each reason's cue.
        starts = mat[:, scan.C_IDX].astype(numpy.int64)
        ends = starts + mat[:, scan.C_LENGTH].astype(numpy.int64)
        base = offsets[codes[ev_code, 0]]  # each span's Doc's first token
        span_starts = starts[base + evidence[:, 0]].tolist()
        span_ends = ends[base + evidence[:, 1] - 1].tolist()
        base = numpy.repeat(base, evidence[:, 2])  # each reason's
        plain = reasons[:, 1] == scan.PLAIN
        reasons[:, 2] = numpy.where(plain, -1, starts[numpy.where(plain, 0, base + reasons[:, 2])])
        reasons[:, 3] = numpy.where(
            plain, -1, ends[numpy.where(plain, 0, base + reasons[:, 3] - 1)]
        )
        # The reason in words of each span. Most often one rule found it, plainly: its words are
        # known by the code and rule alone, put in words once a run.
        first = ev_ptr[:-1]
        alone = (evidence[:, 2] == 1) & plain[first]
        pairs = codes[ev_code, 1] * len(index.keys) + reasons[first, 0]
        said_why = numpy.empty(len(evidence), dtype=object)
        if alone.any():
            known, which = numpy.unique(pairs[alone], return_inverse=True)
            words = []
            for pair in known.tolist():
                why = whys.get(pair)
                if why is None:
                    code, key = divmod(pair, len(index.keys))
                    why = whys[pair] = self._why(
                        self.code_ids_[code], [(index.keys[key], Context.PLAIN, None)]
                    )
                words.append(why)
            said_why[alone] = numpy.array(words, dtype=object)[which]
        for e in numpy.flatnonzero(~alone).tolist():
            d, code = codes[ev_code[e], :2].tolist()
            said: list[tuple[int, int, str | None]] = []  # (rule, context, cue as written)
            for key, context, cue_start, cue_end in reasons[ev_ptr[e] : ev_ptr[e + 1]].tolist():
                reason = (key, context, texts[d][cue_start:cue_end] if cue_end >= 0 else None)
                if reason not in said:
                    said.append(reason)
            remembered = (code, *said)  # by numbers and cues
            why = whys.get(remembered)
            if why is None:
                why = whys[remembered] = self._why(
                    self.code_ids_[code],
                    [(index.keys[k], CONTEXTS[c], cue) for k, c, cue in said],
                )
            said_why[e] = why
        # (Evidence made as its __new__ makes it, without calling it: in half the time)
        spans = zip(span_starts, span_ends, said_why.tolist(), strict=True)
        spans = list(map(tuple.__new__, repeat(Evidence), spans))
        assignments = list(
            map(
                Assignment,
                self.code_names_[codes[order, 1]].tolist(),
                confidence[order].tolist(),
                [
                    spans[a:b]
                    for a, b in zip(
                        code_ptr[order].tolist(), code_ptr[order + 1].tolist(), strict=True
                    )
                ],
            )
        )
        out = [RuleResult(assignments[a:b]) for a, b in pairwise(doc_ptr)]
        for d, code in denied.tolist():
            out[d].denied = out[d].denied | {self.code_ids_[code]}
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


def warm_up() -> None:
    """Compile the rule coder's kernels now: numba keeps them on disk, so that the first coding
    on a machine does not wait for them (about 10 s). ``scripts/setup.sh`` runs it as
    ``python -m qualcode.coding.rules``."""
    from qualcode.codebook import default_codebook_path, load_codebook

    coder = RuleCoder(load_codebook(default_codebook_path())).fit()
    coder.predict(["On paper we pool budgets, but nobody shares the risk if only we could."])


if __name__ == "__main__":
    warm_up()
