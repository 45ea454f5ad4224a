"""The codebook's token patterns, compiled to integer tables for the rule coder's scan.

spaCy's ``Matcher`` tries every pattern at every token and evaluates ``IN`` sets through Python
predicates, which made the rule coder many times slower than tokenising. The codebook's patterns
use a small part of the Matcher language (LEMMA, LOWER, ORTH, TEXT, NORM with a value or an
``IN`` list, IS_* flags, and OP ``?``, ``*``, ``+``; spaCy validates them in full when the
codebook is loaded). ``PatternIndex`` compiles those patterns to integer tables that
``qualcode.coding.scan`` matches in compiled code: each value a pattern names gets a dense
number, each pattern is indexed by the values its first token may take, and at each token only
the patterns that can start there are tried. A pattern using anything else (``!``, other
attributes, other predicates) is handed to a real spaCy ``Matcher``, so every valid pattern still
works; a test checks that both give the same matches on the demo corpus.

Leading optional tokens never decide whether a pattern matches, only how far left the span
reaches; they are dropped, so every match starts on a required token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from spacy.attrs import IDS
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.matcher import Matcher
from spacy.tokens import Doc

from qualcode.coding import scan

VALUE_ATTRS = ("LEMMA", "LOWER", "ORTH", "NORM")
FLAG_ATTRS = ("IS_PUNCT", "IS_ALPHA", "IS_DIGIT", "IS_STOP", "LIKE_NUM")
ALIASES = {"TEXT": "ORTH"}
OPS = {None: scan.REQUIRED, "?": scan.OPTIONAL, "+": scan.PLUS, "*": scan.STAR}


@dataclass(frozen=True, slots=True)
class _Token:
    values: tuple[tuple[str, frozenset[int]], ...]  # (attribute, allowed ids)
    flags: tuple[tuple[str, bool], ...]  # (attribute, required value)
    op: int


class PatternIndex:
    """Patterns by key (include patterns, and the near misses of each code), compiled.

    ``columns`` is the list of token attributes the rule coder reads each batch into
    (``scan.TOKEN_ATTRS`` first); attributes the patterns need are appended to it.
    """

    def __init__(self, vocab, columns: list[str]) -> None:
        self.vocab = vocab
        self.columns = columns
        self.keys: list[str] = []
        self.key_code: list[str] = []
        self.key_exclude: list[bool] = []
        self.compiled: list[tuple[int, list[_Token]]] = []
        self.fallback = Matcher(vocab)
        self._tables: tuple[Any, ...] | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: str, code: str, pattern: list[dict[str, Any]], exclude=False) -> None:
        """Add a pattern under ``key`` (several may share one), for ``code``; ``exclude``: a
        near miss, whose matches block the code's matches they overlap."""
        self._tables = None
        if key not in self.keys:
            self.keys.append(key)
            self.key_code.append(code)
            self.key_exclude.append(exclude)
        number = self.keys.index(key)
        tokens = self._compile(pattern)
        while tokens and tokens[0].op in (scan.OPTIONAL, scan.STAR):
            tokens = tokens[1:]
        if not tokens:
            self.fallback.add(str(number), [pattern])
            return
        self.compiled.append((number, tokens))

    def _compile(self, pattern: list[dict[str, Any]]) -> list[_Token] | None:
        out = []
        for spec in pattern:
            values, flags, op = [], [], scan.REQUIRED
            for name, value in spec.items():
                name = ALIASES.get(name, name)
                if name == "OP":
                    if value not in OPS:
                        return None  # "!" and the counted forms: left to spaCy
                    op = OPS[value]
                elif name in VALUE_ATTRS:
                    items = (
                        value["IN"] if isinstance(value, dict) and set(value) == {"IN"} else None
                    )
                    if items is None and not isinstance(value, str):
                        return None
                    ids = frozenset(self.vocab.strings.add(str(v)) for v in (items or [value]))
                    values.append((name, ids))
                elif name in FLAG_ATTRS and isinstance(value, bool):
                    flags.append((name, value))
                else:
                    return None
            out.append(_Token(tuple(values), tuple(flags), op))
        return out

    def _column(self, name: str) -> int:
        if name not in self.columns:
            self.columns.append(name)
        return self.columns.index(name)

    def tables(self) -> tuple[tuple[np.ndarray, ...], np.ndarray, list[tuple[int, np.ndarray]]]:
        """(pattern tables, each key's rank by name, the value slots): the slots are (matrix
        column, sorted ids), and a token's value in slot v has dense number offset_v + index."""
        if self._tables is None:
            self._tables = self._build()
        return self._tables

    def _build(self):
        # the value slots: every (attribute, id) a pattern names, numbered densely
        slot_ids: dict[str, set[int]] = {}
        for _, tokens in self.compiled:
            for token in tokens:
                for name, ids in token.values:
                    slot_ids.setdefault(name, set()).update(ids)
        slots, dense, offset = [], {}, 0
        for name in sorted(slot_ids):
            ids = np.array(sorted(slot_ids[name]), dtype=np.uint64)
            slots.append((self._column(name), ids, offset))
            dense.update({(name, int(v)): offset + k for k, v in enumerate(ids.tolist())})
            offset += len(ids)
        slot_of = {name: k for k, name in enumerate(sorted(slot_ids))}

        spec_op, spec_v0, spec_v1, spec_f0, spec_f1 = [], [], [], [], []
        vc_slot, vc_ptr, vc_vals, fc_col, fc_want = [], [0], [], [], []
        pat_s0, pat_s1, pat_key = [], [], []
        anchors: dict[int, list[int]] = {}
        unanchored = []
        for number, (key, tokens) in enumerate(self.compiled):
            pat_s0.append(len(spec_op))
            for token in tokens:
                spec_op.append(token.op)
                spec_v0.append(len(vc_slot))
                for name, ids in token.values:
                    vc_slot.append(slot_of[name])
                    vc_vals += sorted(dense[(name, v)] for v in ids)
                    vc_ptr.append(len(vc_vals))
                spec_v1.append(len(vc_slot))
                spec_f0.append(len(fc_col))
                for name, want in token.flags:
                    fc_col.append(self._column(name))
                    fc_want.append(int(want))
                spec_f1.append(len(fc_col))
            pat_s1.append(len(spec_op))
            pat_key.append(key)
            anchor = _anchor(tokens, self.vocab.strings)
            if anchor is None:
                unanchored.append(number)
                continue
            name, ids, offsets = anchor
            for v in ids:
                anchors.setdefault(dense[(name, v)], []).extend((number, o) for o in offsets)
        anchor_ptr, anchor_pat, anchor_off = [0], [], []
        for g in range(offset):
            for number, o in anchors.get(g, []):
                anchor_pat.append(number)
                anchor_off.append(o)
            anchor_ptr.append(len(anchor_pat))

        def array(values) -> np.ndarray:
            return np.array(values, dtype=np.int64)

        pt = tuple(
            array(v)
            for v in (
                spec_op,
                spec_v0,
                spec_v1,
                vc_slot,
                vc_ptr,
                vc_vals,
                spec_f0,
                spec_f1,
                fc_col,
                fc_want,
                pat_s0,
                pat_s1,
                pat_key,
                anchor_ptr,
                anchor_pat,
                anchor_off,
                unanchored,
            )
        )
        ranks = {key: rank for rank, key in enumerate(sorted(self.keys))}
        key_rank = array([ranks[key] for key in self.keys])
        return pt, key_rank, slots

    def dense(self, mat: np.ndarray) -> np.ndarray:
        """Each token's dense value number in each slot, -1 where no pattern names it."""
        _, _, slots = self.tables()
        out = np.empty((len(mat), len(slots)), dtype=np.int64)
        for v, (column, ids, offset) in enumerate(slots):
            out[:, v] = scan.lookup(ids, np.arange(offset, offset + len(ids)), mat[:, column], -1)
        return out

    def matrix(self, doc: Doc) -> np.ndarray:
        """The Doc's token attributes, one column per name in ``columns``."""
        self.tables()  # the patterns' columns are known once compiled
        if not len(doc):
            return np.zeros((0, len(self.columns)), dtype=np.uint64)
        return doc.to_array([IDS[name] for name in self.columns])

    def fallback_matches(self, doc: Doc) -> list[tuple[int, int, int]]:
        """(key number, start, end) of the patterns spaCy's own Matcher handles."""
        if not len(self.fallback):
            return []
        strings = self.vocab.strings
        return [(int(strings[m]), s, e) for m, s, e in self.fallback(doc)]

    def __call__(self, doc: Doc) -> list[tuple[str, int, int]]:
        """The include patterns' matches in one Doc: (key, start, end), the longest for each
        key and start (spaCy's own Matcher: each it finds), by start, end and key."""
        pt, key_rank, _ = self.tables()
        mat = self.matrix(doc)
        keys, starts, ends = scan.find_matches(pt, key_rank, self.dense(mat), mat)
        found = list(zip(keys.tolist(), starts.tolist(), ends.tolist(), strict=True))
        found += self.fallback_matches(doc)
        return sorted(
            ((self.keys[k], s, e) for k, s, e in found if not self.key_exclude[k]),
            key=lambda m: (m[1], m[2], m[0]),
        )


def _anchor(tokens: list[_Token], strings) -> tuple[str, frozenset[int], list[int]] | None:
    """The rarest required token of a pattern: (attribute, values, the counts of tokens that may
    stand before it), or None when no required token names a value.

    A pattern is only tried where its anchor's value occurs, so one that opens with "the" or
    "one" is tried where its rare word appears. Stop words count as a thousand words and short
    words as ten, a rough stand-in for frequency. Tokens after a repeat have no bounded offset,
    so the anchor is chosen before any.
    """
    best = None
    offsets = {0}
    for token in tokens:
        if token.op in (scan.REQUIRED, scan.PLUS) and token.values:
            name, allowed = min(token.values, key=lambda v: len(v[1]))
            cost = sum(
                1000 if strings[v] in STOP_WORDS else (10 if len(strings[v]) <= 5 else 1)
                for v in allowed
            )
            if best is None or cost < best[0]:
                best = (cost, (name, allowed, sorted(offsets)))
        if token.op in (scan.STAR, scan.PLUS):
            break
        offsets = {o + 1 for o in offsets} | (offsets if token.op == scan.OPTIONAL else set())
    return best[1] if best else None
