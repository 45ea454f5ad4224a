"""Negation, concession, contrast and wishes around a match, clause by clause.

The codebook's rules (see its description): a bare denial ("funding was never the problem") is
never the barrier; in "not X but Y" the code follows the "but"; double negatives flip back
("nobody could pretend the budgets weren't tight"); "not just X but Y" negates nothing; a wish or
hypothetical ("if only we had one set of notes") means the thing is absent; and so does a thing
said to exist only in name ("on paper we have a pooled budget", "we talk about a pooled budget but
what we actually have is two budgets side by side", "rather than pooling the money").

This module is the one definition of the negation and cue words: the rule coder's clause checks
(compiled, in ``qualcode.coding.scan``, from the word ids below), ``mark_negation`` (the word
features of the model and family coders) and the concept lexicons' denials (``concepts.DENIAL``)
are all built from ``NEGATION_WORDS``.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from spacy.strings import get_string_id

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


class Context(Enum):
    """How a match stands in its sentence (``qualcode.coding.scan`` decides which)."""

    PLAIN = "plain"
    NEGATED = "negated"
    WISH = "wish"
    # In name only, or set against what really happens ("on paper", "rather than").
    CONTRAST = "contrast"


def _ids(words) -> frozenset[int]:
    # the ids a Doc's LOWER attribute holds: a hash, or spaCy's own number for its symbols
    return frozenset(get_string_id(w) for w in words)


def _phrases(phrases) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(get_string_id(w) for w in p) for p in phrases)


NEGATION_IDS = _ids(NEGATION_WORDS)
NOT_NEGATING_IDS = _ids(NOT_NEGATING_AFTER)
BOUNDARY_IDS = _ids(CLAUSE_WORDS | CLAUSE_PUNCT)
PUNCT_IDS = _ids(CLAUSE_PUNCT)
WISH_IDS = _ids(WISH_WORDS)
IF, ONLY = get_string_id("if"), get_string_id("only")
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
