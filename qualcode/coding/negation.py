"""Negation, concession and wishes around a match, clause by clause.

The codebook's rules (see its description): a bare denial ("funding was never the problem") is
never the barrier; in "not X but Y" the code follows the "but"; double negatives flip back
("nobody could pretend the budgets weren't tight"); "not just X but Y" negates nothing; and a
wish or hypothetical ("if only we had one set of notes") means the thing is absent.
"""

from __future__ import annotations

from enum import Enum

from spacy.tokens import Span

NEGATION_LOWER = {
    "not",
    "n't",
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
CLAUSE_PUNCT = {",", ";", ":", ".", "?", "!", "—", "–", "-", "(", ")"}


class Context(Enum):
    PLAIN = "plain"
    NEGATED = "negated"
    WISH = "wish"


def clause_bounds(span: Span) -> tuple[int, int]:
    """Token indices (start, end) of the clause around ``span``, within its sentence."""
    doc = span.doc
    sent = span.sent
    start = span.start
    while start > sent.start and not _boundary(doc[start - 1]):
        start -= 1
    end = span.end
    while end < sent.end and not _boundary(doc[end]):
        end += 1
    return start, end


def _boundary(token) -> bool:
    return token.text in CLAUSE_PUNCT or token.lower_ in CLAUSE_WORDS


def context_of(span: Span) -> tuple[Context, str | None]:
    """Whether a match is asserted, negated or wished for; with the cue word if any."""
    doc = span.doc
    start, end = clause_bounds(span)
    cues = []
    for i in range(start, end):
        if span.start <= i < span.end:
            continue  # a negation inside the match is part of what it means ("nobody owns")
        token = doc[i]
        if token.lower_ in NEGATION_LOWER or token.lemma_ == "not":
            nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
            if nxt in NOT_NEGATING_AFTER:
                continue
            cues.append(token.text)
    if len(cues) % 2 == 1:
        return Context.NEGATED, cues[0]
    for i in range(start, end):
        token = doc[i]
        nxt = doc[i + 1].lower_ if i + 1 < len(doc) else ""
        if (
            token.lemma_ == "wish"
            or token.lower_ == "ideally"
            or (token.lower_ == "if" and nxt == "only")
            or (token.lower_ in {"would", "'d"} and nxt in {"love", "like"})
        ):
            return Context.WISH, token.text
    return Context.PLAIN, None
