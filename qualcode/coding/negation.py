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
from dataclasses import dataclass
from enum import Enum

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


@dataclass(frozen=True, slots=True)
class DocWords:
    """A Doc reduced to what negation needs: lower-case word ids and sentence starts.

    Built once per Doc from attribute arrays and compared as hash ids, so checking the context
    of each match creates no Python Token or string per word."""

    doc: Doc
    lower: list[int]
    sent_start: list[bool]

    @classmethod
    def of(cls, doc: Doc) -> DocWords:
        array = doc.to_array([LOWER, SENT_START]).tolist() if len(doc) else []
        return cls(doc, [row[0] for row in array], [row[1] == 1 for row in array])


def clause_bounds(words: DocWords, start: int, end: int) -> tuple[int, int]:
    """Token indices (start, end) of the clause around tokens [start, end)."""
    lower, sent_start = words.lower, words.sent_start
    while start > 0 and not sent_start[start] and lower[start - 1] not in BOUNDARY_IDS:
        start -= 1
    n = len(lower)
    while end < n and not sent_start[end] and lower[end] not in BOUNDARY_IDS:
        end += 1
    return start, end


def _phrase_at(lower: list[int], i: int, phrases: tuple[tuple[int, ...], ...]) -> int:
    """Length of the first of ``phrases`` that starts at token i, else 0."""
    for phrase in phrases:
        if tuple(lower[i : i + len(phrase)]) == phrase:
            return len(phrase)
    return 0


def _stretch(words: DocWords, start: int, end: int) -> tuple[int, int]:
    """The part of the sentence around tokens [start, end) up to a contrast: a "but", "yet",
    "however", "whereas", ";" or "in practice" (exclusive bounds)."""
    lower, sent_start = words.lower, words.sent_start

    def cut(i: int) -> bool:
        return lower[i] in CONTRAST_IDS or bool(_phrase_at(lower, i, REALITY_OPENER_PHRASES))

    a = start
    while a > 0 and not sent_start[a] and lower[a - 1] not in SENTENCE_END_IDS and not cut(a - 1):
        a -= 1
    if a > 0 and _phrase_at(lower, a - 1, REALITY_OPENER_PHRASES):
        a += 1  # "in practice" opens this stretch: its second word is not part of it
    n = len(lower)
    b = end
    while b < n and not sent_start[b] and lower[b] not in SENTENCE_END_IDS and not cut(b):
        b += 1
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
    a, b = _stretch(words, start, end)
    c_start, c_end = clause_bounds(words, start, end)
    for i in range(a, start):
        if _phrase_at(lower, i, NOMINAL_ANYWHERE) or _phrase_at(lower, i, NOMINAL_BEFORE):
            return i
    # After the match, "in name only" says it alone; "on paper" or "in theory" only when the
    # sentence then turns ("a partnership of equals on paper and ... in practice"): "one set of
    # records on paper" is paper.
    turns = b < len(lower) and (
        lower[b] in CONTRAST_IDS or bool(_phrase_at(lower, b, REALITY_OPENER_PHRASES))
    )
    for i in range(end, c_end):
        if _phrase_at(lower, i, NOMINAL_AFTER) or (
            turns and _phrase_at(lower, i, NOMINAL_ANYWHERE)
        ):
            return i
    real, has = _turns_to_reality(lower, b)
    if has:
        return b
    if real:
        for i in range(a, start):
            if _phrase_at(lower, i, CLAIM_PHRASES):
                return i
    # "rather than (having) a pooled budget": the cue ends at most three words before the match,
    # with no clause break between ("rather" itself ends the previous clause).
    for i in range(max(0, c_start - 2), start):
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
    lower = words.lower
    n = len(lower)
    c_start, c_end = clause_bounds(words, start, end)
    cues = []
    for i in range(c_start, c_end):
        if start <= i < end:
            continue  # a negation inside the match is part of what it means ("nobody owns")
        if lower[i] in NEGATION_IDS and not (i + 1 < n and lower[i + 1] in NOT_NEGATING_IDS):
            if (
                barrier
                and i >= end
                and not any(lower[j] in PROBLEM_IDS for j in range(i + 1, c_end))
            ):
                continue
            cues.append(i)
    contrast = contrast_of(words, start, end)
    if (len(cues) + (contrast is not None)) % 2 == 1:
        if contrast is not None:
            return Context.CONTRAST, _cue_text(words, contrast)
        return Context.NEGATED, words.doc[cues[0]].text
    for i in range(c_start, c_end):
        word = lower[i]
        nxt = lower[i + 1] if i + 1 < n else 0
        if (
            word in WISH_IDS
            or (word == IF and nxt == ONLY)
            or (word in WOULD_IDS and nxt in LIKE_IDS)
        ):
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
