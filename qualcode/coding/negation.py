"""Negation, concession, contrast and wishes around a match, clause by clause.

The codebook's rules (see its description): a bare denial ("funding was never the problem") is
never the barrier; in "not X but Y" the code follows the "but"; double negatives flip back
("nobody could pretend the budgets weren't tight"); "not just X but Y" negates nothing; a wish or
hypothetical ("if only we had one set of notes") means the thing is absent; and so does a thing
said to exist only in name ("on paper we have a pooled budget", "we talk about a pooled budget but
what we actually have is two budgets side by side", "rather than pooling the money").

This module is the one definition of the negation words: the rule coder's clause checks below,
``mark_negation`` (the word features of the model and family coders) and the concept lexicons'
denials (``concepts.DENIAL``) are all built from ``NEGATION_WORDS``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from enum import Enum
from functools import lru_cache

import numpy
from spacy.attrs import LOWER, SENT_START
from spacy.strings import hash_string
from spacy.tokens import Doc

# Words that deny what their clause says. Contractions appear as spaCy splits them ("did",
# "n't"); ``is_negator`` also accepts them whole ("didn't"), as a regex tokenizer leaves them.
NEGATION_WORDS = frozenset(
    {
        "not",
        "n't",
        "nt",
        "no",
        "never",
        "nobody",
        "nothing",
        "none",
        "neither",
        "nor",
        "without",
        "hardly",
        "barely",
        "cannot",
        "nowhere",
        # "a lack of joint training", "the absence of a pooled budget": the thing is missing
        "lack",
        "lacked",
        "lacking",
        "absence",
    }
)
# "not just the money but the lawyers too": "not" before these does not negate.
NOT_NEGATING_AFTER = frozenset(
    {"just", "only", "simply", "merely", "least", "necessarily", "always", "all"}
)
# Words that open a new clause, and so end a negation's scope.
CLAUSE_WORDS = frozenset(
    {
        "but",
        "although",
        "though",
        "however",
        "whereas",
        "yet",
        "because",
        "while",
        "whilst",
        "except",
        "so",
        "and",
        "which",
        "instead",
        "rather",
    }
)
CLAUSE_PUNCT = frozenset({",", ";", ":", ".", "?", "!", "—", "–", "-", "(", ")"})
WISH_WORDS = frozenset({"wish", "wished", "wishes", "wishing", "ideally"})
# What a denial denies when it follows a barrier ("cost shunting was never the problem").
PROBLEM_WORDS = frozenset(
    {
        "problem",
        "problems",
        "issue",
        "issues",
        "difficulty",
        "difficulties",
        "barrier",
        "barriers",
        "obstacle",
        "obstacles",
        "sticking",
        "concern",
        "concerns",
        "worry",
        "trouble",
        "hurdle",
        "factor",
        "reason",
        "cause",
        "tension",
        "tensions",
    }
)

# Contrast: the thing exists in name only. Strong cues say so wherever they stand in the
# stretch of the sentence around the match (up to a "but", "yet", "however", ";" or "in
# practice"): "on paper", "in theory", "so-called", "supposed to"...
NOMINAL_CUES = (
    ("on", "paper"),
    ("in", "theory"),
    ("in", "principle"),
    ("in", "name", "only"),
    ("on", "the", "face", "of", "it"),
    ("paper", "exercise"),
    ("nominally",),
    ("notionally",),
    ("supposedly",),
    ("ostensibly",),
    ("so", "-", "called"),
    ("so", "called"),
    ("supposed", "to"),
    ("meant", "to"),
)
# Cues that say it alone after the match too ("a joint team in name only").
NOMINAL_ALONE = (("in", "name", "only"), ("nominally",), ("notionally",), ("paper", "exercise"))
# Weak cues (a claim: "we talk about a pooled budget", "officially it's joint") make the thing
# nominal only when the sentence goes on to contrast it with what is real.
CLAIM_CUES = (
    ("talk", "about"),
    ("talk", "of"),
    ("talked", "about"),
    ("talking", "about"),
    ("talks", "about"),
    ("officially",),
    ("technically",),
    ("we", "call", "it"),
    ("they", "call", "it"),
    ("called",),
    ("claim",),
    ("claims",),
    ("claimed",),
)
# Where the sentence turns to what is real: after "but"/"yet"/"however"/";", one of these within
# a few words ("but what we actually have", "but in practice", "but really it's").
REALITY_WORDS = frozenset({"actually", "really", "practice", "reality", "truth", "fact"})
# "...but what we actually have is two budgets": this turn alone makes what came before nominal.
REAL_HAVE = (("actually", "have"), ("actually", "got"), ("really", "have"), ("really", "got"))
CONTRAST_WORDS = frozenset({"but", "yet", "however", "whereas", ";"})
# Phrases that open the real part of a sentence without a "but": "in practice, ...".
REALITY_OPENERS = (("in", "practice"), ("in", "reality"), ("in", "fact"), ("the", "reality"))
# "rather than X", "instead of X", "as opposed to X": X is not what happens.
ALTERNATIVE_CUES = (("rather", "than"), ("instead", "of"), ("as", "opposed", "to"))
# How far after a contrast word the sentence may turn to what is real.
REALITY_REACH = 4


class Context(Enum):
    PLAIN = "plain"
    NEGATED = "negated"
    WISH = "wish"
    # In name only, or set against what really happens ("on paper", "rather than").
    CONTRAST = "contrast"


def _ids(words) -> frozenset[int]:
    return frozenset(hash_string(w) for w in words)


def _phrases(phrases) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(hash_string(w) for w in p) for p in phrases)


NEGATION_IDS = _ids(NEGATION_WORDS)
NOT_NEGATING_IDS = _ids(NOT_NEGATING_AFTER)
BOUNDARY_IDS = _ids(CLAUSE_WORDS | CLAUSE_PUNCT)
PUNCT_IDS = _ids(CLAUSE_PUNCT)
WISH_IDS = _ids(WISH_WORDS)
IF, ONLY = hash_string("if"), hash_string("only")
PROBLEM_IDS = _ids(PROBLEM_WORDS)
WOULD_IDS, LIKE_IDS = _ids({"would", "'d"}), _ids({"love", "like"})
SENTENCE_END_IDS = _ids({".", "?", "!"})
CONTRAST_IDS = _ids(CONTRAST_WORDS)
REALITY_IDS = _ids(REALITY_WORDS)
NOMINAL_ANYWHERE = _phrases(p for p in NOMINAL_CUES if p[-1] != "to")
NOMINAL_BEFORE = _phrases(p for p in NOMINAL_CUES if p[-1] == "to")  # "supposed to have X"
NOMINAL_AFTER = _phrases(NOMINAL_ALONE)
CLAIM_PHRASES = _phrases(CLAIM_CUES)
REAL_HAVE_PHRASES = _phrases(REAL_HAVE)
REALITY_OPENER_PHRASES = _phrases(REALITY_OPENERS)
ALTERNATIVE_PHRASES = _phrases(ALTERNATIVE_CUES)


def _cues_by_first_word() -> dict[int, list[tuple[tuple[int, ...], str]]]:
    """The cue phrases by their first word, each with the kind of DocWords list that notes where
    it starts ("anywhere" cues are "before" cues too: both count before a match)."""
    out: dict[int, list[tuple[tuple[int, ...], str]]] = {}
    for kind, phrases in (
        ("opener", REALITY_OPENER_PHRASES),
        ("anywhere", NOMINAL_ANYWHERE),
        ("before", NOMINAL_ANYWHERE + NOMINAL_BEFORE),
        ("after", NOMINAL_AFTER),
        ("claim", CLAIM_PHRASES),
    ):
        for phrase in phrases:
            out.setdefault(phrase[0], []).append((phrase, kind))
    return out


PHRASE_CUES = _cues_by_first_word()
PHRASE_FIRST_IDS = frozenset(PHRASE_CUES)
# Every word a check below looks for; DocWords notes where each stands in one pass.
MARK_IDS = (
    NEGATION_IDS
    | BOUNDARY_IDS
    | SENTENCE_END_IDS
    | CONTRAST_IDS
    | WISH_IDS
    | WOULD_IDS
    | PROBLEM_IDS
    | PHRASE_FIRST_IDS
    | {IF}
)
# "rather than X": the cue ends at most three words before the match (see contrast_of).
ALTERNATIVE_REACH = 3 + max(len(p) for p in ALTERNATIVE_PHRASES)


class DocWords:
    """A Doc reduced to what negation needs: lower-case word ids, and the token indices
    (ascending) of sentence starts, clause boundaries, stretch boundaries, negators, problem
    words, wishes and contrast cues.

    Built once per Doc in one pass over its attribute arrays, creating no Python Token or string
    per word. Each match's clause, stretch and cues are then found by bisecting these lists, so
    checking a match costs the same in a ten-word answer and in a 400,000-word turn with no full
    stop (where rescanning the clause for every match made coding quadratic)."""

    __slots__ = (
        "boundaries",
        "claims",
        "doc",
        "lower",
        "negators",
        "nominal_after",
        "nominal_any",
        "nominal_before",
        "problems",
        "starts",
        "stops",
        "wishes",
    )

    def __init__(self, doc: Doc, lower: list[int], starts: list[int]) -> None:
        self.doc, self.lower, self.starts = doc, lower, starts
        # boundaries: clause words and punctuation (clause_bounds); stops: sentence ends,
        # contrast words and "in practice"... (_stretch); negators: negation words that negate
        # (not "not just"); wishes: "wish", "if only", "would like"; the rest: where a cue
        # phrase of that kind starts.
        self.boundaries: list[int] = []
        self.stops: list[int] = []
        self.negators: list[int] = []
        self.problems: list[int] = []
        self.wishes: list[int] = []
        self.nominal_before: list[int] = []  # NOMINAL_ANYWHERE or NOMINAL_BEFORE
        self.nominal_any: list[int] = []
        self.nominal_after: list[int] = []
        self.claims: list[int] = []
        kinds = {
            "opener": self.stops,
            "anywhere": self.nominal_any,
            "before": self.nominal_before,
            "after": self.nominal_after,
            "claim": self.claims,
        }
        n = len(lower)
        for i in [i for i, word in enumerate(lower) if word in MARK_IDS]:
            word = lower[i]
            nxt = lower[i + 1] if i + 1 < n else 0
            if word in BOUNDARY_IDS:
                self.boundaries.append(i)
            if word in NEGATION_IDS and nxt not in NOT_NEGATING_IDS:
                self.negators.append(i)
            if word in PROBLEM_IDS:
                self.problems.append(i)
            if (
                word in WISH_IDS
                or (word == IF and nxt == ONLY)
                or (word in WOULD_IDS and nxt in LIKE_IDS)
            ):
                self.wishes.append(i)
            if word in SENTENCE_END_IDS or word in CONTRAST_IDS:
                self.stops.append(i)
            for phrase, kind in PHRASE_CUES.get(word, ()):
                if len(phrase) == 1 or tuple(lower[i : i + len(phrase)]) == phrase:
                    found = kinds[kind]
                    if not found or found[-1] != i:
                        found.append(i)

    @classmethod
    def of(cls, doc: Doc) -> DocWords:
        if not len(doc):
            return cls(doc, [], [])
        array = doc.to_array([LOWER, SENT_START])
        return cls(doc, array[:, 0].tolist(), numpy.flatnonzero(array[:, 1] == 1).tolist())


def _last_upto(positions: list[int], i: int) -> int:
    """The last of ``positions`` at or before i, else -1."""
    k = bisect_right(positions, i)
    return positions[k - 1] if k else -1


def _first_from(positions: list[int], i: int, default: int) -> int:
    """The first of ``positions`` at or after i, else ``default``."""
    k = bisect_left(positions, i)
    return positions[k] if k < len(positions) else default


def clause_bounds(words: DocWords, start: int, end: int) -> tuple[int, int]:
    """Token indices (start, end) of the clause around tokens [start, end): from just after the
    last clause word or punctuation before it (or a sentence start) to the next."""
    n = len(words.lower)
    c_start = max(0, _last_upto(words.starts, start), _last_upto(words.boundaries, start - 1) + 1)
    c_end = min(_first_from(words.starts, end, n), _first_from(words.boundaries, end, n))
    return c_start, c_end


def _phrase_at(lower: list[int], i: int, phrases: tuple[tuple[int, ...], ...]) -> int:
    """Length of the first of ``phrases`` that starts at token i, else 0."""
    for phrase in phrases:
        if tuple(lower[i : i + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _stretch(words: DocWords, start: int, end: int) -> tuple[int, int]:
    """The part of the sentence around tokens [start, end) up to a contrast: a "but", "yet",
    "however", "whereas", ";" or "in practice" (exclusive bounds)."""
    lower = words.lower
    a = max(0, _last_upto(words.starts, start), _last_upto(words.stops, start - 1) + 1)
    if a > 0 and _phrase_at(lower, a - 1, REALITY_OPENER_PHRASES):
        a += 1  # "in practice" opens this stretch: its second word is not part of it
    n = len(lower)
    b = min(_first_from(words.starts, end, n), _first_from(words.stops, end, n))
    return a, b


def _turns_to_reality(lower: list[int], b: int) -> tuple[bool, bool]:
    """Whether the sentence turns at token b to what is real ("but in practice", "but what we
    actually have"); and whether that turn alone says what came before is nominal ("what we
    actually have")."""
    n = len(lower)
    if b >= n:
        return False, False
    if _phrase_at(lower, b, REALITY_OPENER_PHRASES):
        return True, False
    if lower[b] not in CONTRAST_IDS:
        return False, False
    reach = range(b + 1, min(n, b + 1 + REALITY_REACH))
    real = any(lower[j] in REALITY_IDS for j in reach)
    has = any(_phrase_at(lower, j, REAL_HAVE_PHRASES) for j in reach)
    return real, has


def contrast_of(words: DocWords, start: int, end: int) -> int | None:
    """The token where a cue says the match at tokens [start, end) exists in name only or is set
    against what really happens, or None.

    - "on paper", "in theory", "in name only", "so-called"... before the match in its stretch of
      the sentence (up to a "but", "yet", ";", "in practice"); after it in its clause, "in name
      only" or "nominally", or "on paper" and the like when the sentence then turns;
    - "supposed to", "meant to" before it in its stretch ("we're supposed to have a pooled
      budget", not "the pooled budget was supposed to help");
    - a claim ("we talk about", "officially") before it, when the sentence then turns to what is
      real ("but in practice", "but what we actually have");
    - "but what we actually have" after its stretch, alone;
    - "rather than", "instead of", "as opposed to" just before it in its clause.
    """
    lower = words.lower
    n = len(lower)
    a, b = _stretch(words, start, end)
    c_start, c_end = clause_bounds(words, start, end)
    i = _first_from(words.nominal_before, a, n)
    if i < start:
        return i
    # After the match, "in name only" says it alone; "on paper" or "in theory" only when the
    # sentence then turns ("a partnership of equals on paper and ... in practice"): "one set of
    # records on paper" is paper.
    turns = b < n and (
        lower[b] in CONTRAST_IDS or bool(_phrase_at(lower, b, REALITY_OPENER_PHRASES))
    )
    i = _first_from(words.nominal_after, end, n)
    if turns:
        i = min(i, _first_from(words.nominal_any, end, n))
    if i < c_end:
        return i
    real, has = _turns_to_reality(lower, b)
    if has:
        return b
    if real:
        i = _first_from(words.claims, a, n)
        if i < start:
            return i
    # "rather than (having) a pooled budget": the cue ends at most three words before the match,
    # with no clause break between ("rather" itself ends the previous clause).
    for i in range(max(0, c_start - 2, start - ALTERNATIVE_REACH), start):
        length = _phrase_at(lower, i, ALTERNATIVE_PHRASES)
        if length and start - (i + length) <= 3:
            between = lower[i + length : start]
            if not any(w in PUNCT_IDS for w in between):
                return i
    return None


def context_of(
    words: DocWords, start: int, end: int, *, barrier: bool = False
) -> tuple[Context, str | None]:
    """Whether the match at tokens [start, end) is asserted, negated, contrasted (in name only)
    or wished for; with the cue word(s) if any.

    For a barrier, a negation after the match counts only when it denies a problem ("the
    money was never the problem"): in "cost shunting didn't stop" it does not deny the
    shunting. For a prerequisite any negation in the clause counts ("joint training doesn't
    happen any more" is its absence). A contrast counts as one more negation, so a denial said
    to hold only in theory is no denial ("in theory nobody shunts costs, but in practice...").
    """
    c_start, c_end = clause_bounds(words, start, end)
    negators = words.negators
    # A negation inside the match is part of what it means ("nobody owns"): only those before
    # and after it count; for a barrier, those after it only with a problem word after them.
    after_end = c_end
    if barrier:
        after_end = min(c_end, _last_upto(words.problems, c_end - 1))
    before = bisect_left(negators, c_start), bisect_left(negators, start)
    after = bisect_left(negators, end), bisect_left(negators, max(end, after_end))
    count = before[1] - before[0] + after[1] - after[0]
    contrast = contrast_of(words, start, end)
    if (count + (contrast is not None)) % 2 == 1:
        if contrast is not None:
            return Context.CONTRAST, _cue_text(words, contrast)
        first = negators[before[0]] if before[1] > before[0] else negators[after[0]]
        return Context.NEGATED, words.doc[first].text
    i = _first_from(words.wishes, c_start, c_end)
    if i < c_end:
        return Context.WISH, words.doc[i].text
    return Context.PLAIN, None


def _cue_text(words: DocWords, i: int) -> str:
    """The cue phrase at token i as written ("on paper", "but what we actually have")."""
    lower = words.lower
    for phrases in (
        NOMINAL_ANYWHERE,
        NOMINAL_BEFORE,
        CLAIM_PHRASES,
        ALTERNATIVE_PHRASES,
        REALITY_OPENER_PHRASES,
    ):
        length = _phrase_at(lower, i, phrases)
        if length:
            return words.doc[i : i + length].text
    # a turn to what is real: the contrast word and the few words after it
    stop = i + 1
    while stop < min(len(lower), i + 1 + REALITY_REACH) and lower[stop] not in PUNCT_IDS:
        stop += 1
        if lower[stop - 1] in REALITY_IDS and stop < len(lower):
            stop += 1  # "actually have"
            break
    return words.doc[i:stop].text


# -- the same words for regex-tokenized text (the model and family coders' word features) -----

_TOKEN = re.compile(r"\w+(?:'\w+)?|[.,;:!?]")


def is_negator(word: str) -> bool:
    """A lower-case word that negates: one of ``NEGATION_WORDS`` or a whole contraction."""
    return word in NEGATION_WORDS or word.endswith("n't")


def mark_negation(text: str) -> str:
    """Lower-case ``text`` and prefix words in a negation's scope with ``not_`` (see
    ``_mark_negation``). The model and family coders both read each segment this way, so the
    results for texts of up to MARK_CACHE_CHARS characters are remembered (a few thousand)."""
    if len(text) <= MARK_CACHE_CHARS:
        return _remembered_marks(text)
    return _mark_negation(text)


MARK_CACHE_CHARS = 2000


@lru_cache(maxsize=8192)
def _remembered_marks(text: str) -> str:
    return _mark_negation(text)


def _mark_negation(text: str) -> str:
    """Lower-case ``text`` and prefix words in a negation's scope with ``not_``.

    "money was never the problem, it was the culture" ->
    "money was never not_the not_problem , it was the culture .": a classifier then learns
    that a denied problem is not the same as a problem. The scope ends at punctuation or a
    clause word; a second negator flips back; "not just" negates nothing.
    """
    out: list[str] = []
    negated = False
    tokens = _TOKEN.findall(text.lower())
    for i, token in enumerate(tokens):
        if token in CLAUSE_WORDS or token in CLAUSE_PUNCT:
            negated = False
            out.append(token)
            continue
        if is_negator(token):
            following = tokens[i + 1] if i + 1 < len(tokens) else ""
            negated = following not in NOT_NEGATING_AFTER and not negated
            out.append(token)
            continue
        out.append(f"not_{token}" if negated else token)
    return " ".join(out)
