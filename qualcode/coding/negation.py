"""Negation, concession and wishes around a match, clause by clause.

The codebook's rules (see its description): a bare denial ("funding was never the problem") is
never the barrier; in "not X but Y" the code follows the "but"; double negatives flip back
("nobody could pretend the budgets weren't tight"); "not just X but Y" negates nothing; and a
wish or hypothetical ("if only we had one set of notes") means the thing is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from spacy.attrs import LOWER, SENT_START
from spacy.strings import hash_string
from spacy.tokens import Doc

NEGATION_LOWER = {
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
# "not just the money but the lawyers too": "not" before these does not negate.
NOT_NEGATING_AFTER = {"just", "only", "simply", "merely", "least", "necessarily", "always", "all"}
CLAUSE_WORDS = {
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
WISH_WORDS = {"wish", "wished", "wishes", "wishing", "ideally"}
CLAUSE_PUNCT = {",", ";", ":", ".", "?", "!", "—", "–", "-", "(", ")"}


class Context(Enum):
    PLAIN = "plain"
    NEGATED = "negated"
    WISH = "wish"


def _ids(words: set[str]) -> frozenset[int]:
    return frozenset(hash_string(w) for w in words)


NEGATION_IDS = _ids(NEGATION_LOWER)
NOT_NEGATING_IDS = _ids(NOT_NEGATING_AFTER)
BOUNDARY_IDS = _ids(CLAUSE_WORDS | CLAUSE_PUNCT)
WISH_IDS = _ids(WISH_WORDS)
IF, ONLY = hash_string("if"), hash_string("only")
PROBLEM_IDS = _ids(
    {
        "problem",
        "problems",
        "issue",
        "issues",
        "difficulty",
        "barrier",
        "obstacle",
        "sticking",
        "concern",
        "worry",
        "trouble",
        "hurdle",
        "factor",
        "reason",
        "cause",
    }
)
WOULD_IDS, LIKE_IDS = _ids({"would", "'d"}), _ids({"love", "like"})


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


def context_of(
    words: DocWords, start: int, end: int, *, barrier: bool = False
) -> tuple[Context, str | None]:
    """Whether the match at tokens [start, end) is asserted, negated or wished for; with the
    cue word if any.

    For a barrier, a negation after the match counts only when it denies a problem ("the
    money was never the problem"): in "cost shunting didn't stop" it does not deny the
    shunting. For a prerequisite any negation in the clause counts ("joint training doesn't
    happen any more" is its absence).
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
    if len(cues) % 2 == 1:
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
