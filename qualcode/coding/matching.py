"""Fast evaluation of spaCy Matcher token patterns, indexed by their first token.

spaCy's ``Matcher`` tries every pattern at every token and evaluates ``IN`` sets through Python
predicates, which made the rule coder many times slower than tokenising. The codebook's patterns
use a small part of the Matcher language (LEMMA, LOWER, ORTH, TEXT, NORM with a value or an
``IN`` list, IS_* flags, and OP ``?``, ``*``, ``+``, ``!``... spaCy validates them in full when
the codebook is loaded). ``PatternIndex`` compiles those patterns to integer sets, indexes them
by the values their first required token may take, and at match time looks each token up once,
trying only the patterns that can start there. A pattern using anything else is handed to a
real spaCy ``Matcher``, so every valid pattern still works; a test checks that both give the same
matches on the demo corpus.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spacy.attrs import IDS
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc

VALUE_ATTRS = ("LEMMA", "LOWER", "ORTH", "NORM")
FLAG_ATTRS = ("IS_PUNCT", "IS_ALPHA", "IS_DIGIT", "IS_STOP", "LIKE_NUM")
ALIASES = {"TEXT": "ORTH"}


@dataclass(frozen=True, slots=True)
class _Token:
    values: tuple[tuple[int, frozenset[int]], ...]  # (column, allowed ids)
    flags: tuple[tuple[int, bool], ...]  # (column, required value)
    op: str | None

    def ok(self, cols: list[list[int]], i: int) -> bool:
        for column, allowed in self.values:
            if cols[column][i] not in allowed:
                return False
        return all(bool(cols[column][i]) == want for column, want in self.flags)


class PatternIndex:
    """Match many token patterns against Docs; returns (key, start, end) like spaCy's Matcher,
    with the longest match for each key and start."""

    def __init__(self, vocab) -> None:
        self.vocab = vocab
        self.columns: list[str] = []  # the attributes patterns use, in array column order
        self.compiled: dict[str, list[list[_Token]]] = {}
        self.by_value: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        self.unanchored: list[tuple[str, list[_Token]]] = []
        self._key_sets: dict[int, set[int]] | None = None
        self.fallback = Matcher(vocab)

    def __len__(self) -> int:
        return len(self.compiled) + len(self.fallback)

    def add(self, key: str, pattern: list[dict[str, Any]]) -> None:
        self._key_sets = None
        tokens = self._compile(pattern)
        if tokens is None:
            self.fallback.add(key, [pattern])
            return
        # Leading optional tokens never decide whether a pattern matches, only how far left the
        # span reaches; dropping them lets every pattern start on a required token.
        while tokens and tokens[0].op in ("?", "*"):
            tokens = tokens[1:]
        if not tokens:
            self.fallback.add(key, [pattern])
            return
        self.compiled.setdefault(key, []).append(tokens)
        anchor = _anchor(tokens, self.vocab.strings)
        if anchor is None:
            self.unanchored.append((key, tokens))
            return
        position, column, allowed, offsets = anchor
        second = _neighbour(tokens, position)
        for value in allowed:
            self.by_value.setdefault((column, value), []).append((key, tokens, offsets, second))

    def _column(self, name: str) -> int:
        if name not in self.columns:
            self.columns.append(name)
        return self.columns.index(name)

    def _compile(self, pattern: list[dict[str, Any]]) -> list[_Token] | None:
        out = []
        for spec in pattern:
            values, flags, op = [], [], None
            for name, value in spec.items():
                name = ALIASES.get(name, name)
                if name == "OP":
                    if value not in ("?", "*", "+", "!"):
                        return None
                    op = value
                elif name in VALUE_ATTRS:
                    items = (
                        value["IN"] if isinstance(value, dict) and set(value) == {"IN"} else None
                    )
                    if items is None and not isinstance(value, str):
                        return None
                    ids = frozenset(self.vocab.strings.add(str(v)) for v in (items or [value]))
                    values.append((self._column(name), ids))
                elif name in FLAG_ATTRS and isinstance(value, bool):
                    flags.append((self._column(name), value))
                else:
                    return None
            if op == "!":
                return None  # negated tokens: leave to spaCy
            out.append(_Token(tuple(values), tuple(flags), op))
        return out

    def _keys(self) -> dict[int, set[int]]:
        if self._key_sets is None:
            self._key_sets = {}
            for column, value in self.by_value:
                self._key_sets.setdefault(column, set()).add(value)
        return self._key_sets

    def __call__(self, doc: Doc) -> list[tuple[str, int, int]]:
        found: dict[tuple[str, int], int] = {}
        # One flat list per attribute the patterns use (no Token objects, no row lists).
        n = len(doc)
        cols = [doc.to_array(IDS[name]).tolist() for name in self.columns] if n else []
        for column, keys in self._keys().items():
            values = cols[column] if cols else []
            for i in [i for i, value in enumerate(values) if value in keys]:
                for key, tokens, offsets, second in self.by_value[(column, values[i])]:
                    if second is not None:
                        # A cheap look at the anchor's fixed neighbour rules out most
                        # candidates before the full match is tried.
                        j = i + second[0]
                        if not 0 <= j < n or cols[second[1]][j] not in second[2]:
                            continue
                    for offset in offsets:
                        if i >= offset:
                            _keep(found, key, i - offset, _match(tokens, 0, i - offset, cols, n))
        for key, tokens in self.unanchored:
            for i in range(n):
                _keep(found, key, i, _match(tokens, 0, i, cols, n))
        matches = [(key, start, end) for (key, start), end in found.items()]
        if len(self.fallback):
            strings = self.vocab.strings
            matches += [(strings[m], s, e) for m, s, e in self.fallback(doc)]
        return sorted(matches, key=lambda m: (m[1], m[2], m[0]))


def _keep(found: dict[tuple[str, int], int], key: str, start: int, end: int | None) -> None:
    if end is not None and end > found.get((key, start), -1):
        found[(key, start)] = end


def _match(tokens: list[_Token], k: int, i: int, cols: list[list[int]], n: int) -> int | None:
    """The furthest end of a match of tokens[k:] starting at token i, or None."""
    if k == len(tokens):
        return i
    token = tokens[k]
    op = token.op
    if op in (None, "+"):
        if i >= n or not token.ok(cols, i):
            return None
        best = _match(tokens, k + 1, i + 1, cols, n)
        if op == "+":
            more = _match(tokens, k, i + 1, cols, n)  # one more of the same
            best = more if best is None or (more is not None and more > best) else best
        return best
    # "?" and "*": skip the token, or take it (and for "*", maybe more)
    best = _match(tokens, k + 1, i, cols, n)
    if i < n and token.ok(cols, i):
        taken = _match(tokens, k + (1 if op == "?" else 0), i + 1, cols, n)
        if op == "*" and taken is None:
            taken = _match(tokens, k + 1, i + 1, cols, n)
        if taken is not None and (best is None or taken > best):
            best = taken
    return best


def _anchor(
    tokens: list[_Token], strings
) -> tuple[int, int, frozenset[int], tuple[int, ...]] | None:
    """The rarest required token of a pattern: (position, column, values, offsets of the
    pattern's start before it).

    Matching starts where the anchor occurs, minus each possible count of tokens before it, so
    a pattern that opens with "the" or "one" is only tried where its rare word appears. Stop
    words count as a thousand words and short words as ten, a rough stand-in for frequency.
    """
    best = None
    offsets = {0}
    for position, token in enumerate(tokens):
        if token.op in (None, "+") and token.values:
            column, allowed = min(token.values, key=lambda v: len(v[1]))
            cost = sum(
                1000 if strings[v] in STOP_WORDS else (10 if len(strings[v]) <= 5 else 1)
                for v in allowed
            )
            if best is None or cost < best[0]:
                best = (cost, (position, column, allowed, tuple(sorted(offsets))))
        if token.op in ("*", "+"):
            break  # tokens after a repeat have no bounded offset; anchor before it
        offsets = {o + 1 for o in offsets} | (offsets if token.op == "?" else set())
    return best[1] if best else None


def _neighbour(tokens: list[_Token], position: int) -> tuple[int, int, frozenset[int]] | None:
    """A required token right next to the anchor: (offset from the anchor, column, values)."""
    if tokens[position].op is not None:
        return None  # a repeated anchor has no fixed neighbours
    for step in (1, -1):
        j = position + step
        if 0 <= j < len(tokens) and tokens[j].op is None and tokens[j].values:
            column, allowed = min(tokens[j].values, key=lambda v: len(v[1]))
            return step, column, allowed
    return None
