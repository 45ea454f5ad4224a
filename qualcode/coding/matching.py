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
from qualcode.coding.nlp import lemma_forms

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
    ``lemmas_from_lower``: the Docs' lemmas are the lookup table's (``nlp.lemma_forms``), so a
    LEMMA is matched on the LOWER attribute and the Docs need not be lemmatised.
    """

    def __init__(self, vocab, columns: list[str], lemmas_from_lower: bool = False) -> None:
        self.vocab = vocab
        self.columns = columns
        self.lemmas_from_lower = lemmas_from_lower
        self.keys: list[str] = []
        self.key_code: list[str] = []
        self.key_exclude: list[bool] = []
        self.compiled: list[tuple[int, list[_Token]]] = []
        self.fallback = Matcher(vocab)
        self._tables: tuple[Any, ...] | None = None
        self._words: WordTable | None = None

    def add(self, key: str, code: str, pattern: list[dict[str, Any]], exclude=False) -> None:
        """Add a pattern under ``key`` (several may share one), for ``code``; ``exclude``: a
        near miss, whose matches block the code's matches they overlap."""
        self._tables = self._words = None
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

    def tables(self) -> tuple[tuple[np.ndarray, ...], np.ndarray, tuple[np.ndarray, ...]]:
        """(pattern tables, each key's rank by name, the lexicon: per matrix column the ids that
        patterns name, sorted, and the dense value number each stands for in each slot)."""
        if self._tables is None:
            self._tables = self._build()
        return self._tables

    def _lexicon(self) -> tuple[dict[tuple[str, int], int], dict[str, int], tuple[Any, ...]]:
        """Every (attribute, id) a pattern names, numbered densely; each attribute's slot; and
        the lexicon: per matrix column, the ids found there (sorted) and the number each stands
        for in each slot (or -1), so that a token is looked up once per column. A LEMMA is read
        from the LOWER column when ``lemmas_from_lower``: each of its lower-case forms."""
        slot_ids: dict[str, set[int]] = {}
        for _, tokens in self.compiled:
            for token in tokens:
                for name, ids in token.values:
                    slot_ids.setdefault(name, set()).update(ids)
        names = sorted(slot_ids)
        dense: dict[tuple[str, int], int] = {}
        by_column: dict[int, dict[int, list[int]]] = {}
        strings = self.vocab.strings
        for slot, name in enumerate(names):
            ids = sorted(slot_ids[name])
            numbers = {v: len(dense) + k for k, v in enumerate(ids)}
            dense.update({(name, v): number for v, number in numbers.items()})
            if name == "LEMMA" and self.lemmas_from_lower:
                forms = lemma_forms(strings[v] for v in ids)
                found = [(f, numbers[v]) for v in ids for f in forms[strings[v]]]
                column = self._column("LOWER")
            else:
                found = list(numbers.items())
                column = self._column(name)
            table = by_column.setdefault(column, {})
            for key, number in found:
                table.setdefault(key, [-1] * len(names))[slot] = number
        lex_col, lex_ptr, lex_keys, lex_vals = [], [0], [], []
        for column, table in sorted(by_column.items()):
            lex_col.append(column)
            lex_keys += sorted(table)
            lex_vals += [table[key] for key in sorted(table)]
            lex_ptr.append(len(lex_keys))
        lexicon = (
            np.array(lex_col, dtype=np.int64),
            np.array(lex_ptr, dtype=np.int64),
            np.array(lex_keys, dtype=np.uint64),
            np.array(lex_vals, dtype=np.int64).reshape(-1, len(names)),
        )
        return dense, {name: slot for slot, name in enumerate(names)}, lexicon

    def _build(self):
        dense, slot_of, lexicon = self._lexicon()
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
        for g in range(len(dense)):
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
        return pt, key_rank, lexicon

    def matrix(self, doc: Doc) -> np.ndarray:
        """The Doc's token attributes, one column per name in ``columns``, as ``Doc.to_array``
        reads them (``batch`` reads the same through the word table)."""
        self.tables()  # the patterns' columns are known once compiled
        if not len(doc):
            return np.zeros((0, len(self.columns)), dtype=np.uint64)
        return doc.to_array([IDS[name] for name in self.columns])

    def words(self) -> WordTable:
        """The table of the words seen, which ``batch`` reads their columns from."""
        lexicon = self.tables()[2]
        if self._words is None:
            self._words = WordTable(self.vocab, self.columns, lexicon)
        return self._words

    def batch(
        self, docs: list[Doc], own: tuple[np.ndarray, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(token matrix, where each Doc's rows start and end, matches) of a batch of Docs.

        ``own``: the Docs' own columns and their counts of tokens (``WordTable.stack`` of
        ``WordTable.own``, or ``chunks.ChunkTokens.batch``), when they were read as the Docs were
        made or without making Docs; the Docs are then needed only by patterns left to spaCy's
        Matcher.

        The matches are rows (Doc, key number, start, end), starts and ends counted in the Doc:
        the longest for each key and start (spaCy's own Matcher's: each it finds), sorted by
        Doc, start, end and key name, as spaCy sorts them.
        """
        pt, key_rank, _ = self.tables()
        table = self.words()
        if own is None:
            own = table.stack([table.own(doc) for doc in docs])
        mat, offsets, dense = table.read(*own)
        kernels = scan.kernels()
        found = kernels.candidates(pt, dense, mat, offsets)
        if len(found):  # the longest for each Doc, key and start
            found = found[np.lexsort((-found[:, 3], found[:, 2], found[:, 1], found[:, 0]))]
            first = np.ones(len(found), dtype=bool)
            first[1:] = (found[1:, :3] != found[:-1, :3]).any(axis=1)
            found = found[first]
        if len(self.fallback):
            strings = self.vocab.strings
            extra = [
                (d, int(strings[m]), s, e)
                for d, doc in enumerate(docs)
                for m, s, e in self.fallback(doc)
            ]
            found = np.concatenate((found, np.array(extra, dtype=np.int64).reshape(-1, 4)))
        order = np.lexsort((key_rank[found[:, 1]], found[:, 3], found[:, 2], found[:, 0]))
        return mat, offsets, found[order]

    def __call__(self, doc: Doc) -> list[tuple[str, int, int]]:
        """The include patterns' matches in one Doc: (key, start, end), as ``batch`` gives them."""
        _, _, found = self.batch([doc])
        return [(self.keys[k], s, e) for _, k, s, e in found.tolist() if not self.key_exclude[k]]


# Token attributes that belong to the word (spaCy's lexeme), the same wherever it stands: its
# forms, length and flags. A token's offset, sentence start, lemma and norm are its own.
WORD_ATTRS = frozenset(
    [
        "ORTH",
        "LOWER",
        "SHAPE",
        "PREFIX",
        "SUFFIX",
        "LENGTH",
        "IS_ALPHA",
        "IS_ASCII",
        "IS_DIGIT",
        "IS_LOWER",
        "IS_PUNCT",
        "IS_SPACE",
        "IS_TITLE",
        "IS_UPPER",
        "LIKE_URL",
        "LIKE_NUM",
        "LIKE_EMAIL",
        "IS_STOP",
        "IS_BRACKET",
        "IS_QUOTE",
        "IS_LEFT_PUNCT",
        "IS_RIGHT_PUNCT",
        "IS_CURRENCY",
    ]
)


class WordTable:
    """The token matrix of a batch of Docs, with each word's own columns read once per word.

    ``Doc.to_array`` reads every column of every token, one at a time, which took as long as
    tokenising long text did. Here it reads only ORTH (which word) and the token's own columns;
    the word's columns (lower-case form, flags, length: ``WORD_ATTRS``) come from a table of the
    words seen so far, which grows as new words come. When the patterns name word columns only
    (as with the offline pipeline's lemmas read from LOWER), the table also keeps each word's
    dense pattern values (``scan.dense_values``). Past ``MAX_WORDS`` words it starts again, so
    its memory stays bounded on an endless stream of new words.
    """

    MAX_WORDS = 1 << 19
    FIRST_SLOTS = 1 << 14

    def __init__(self, vocab, columns: list[str], lexicon: tuple[np.ndarray, ...]) -> None:
        self.vocab = vocab
        self.lexicon = lexicon
        self.width = len(columns)
        self.word_cols = [j for j, name in enumerate(columns) if name in WORD_ATTRS]
        self.token_cols = [j for j, name in enumerate(columns) if name not in WORD_ATTRS]
        self.token_array = np.array(self.token_cols, dtype=np.int64)
        self.word_array = np.array(self.word_cols, dtype=np.int64)
        self.read_ids = [IDS["ORTH"]] + [IDS[columns[j]] for j in self.token_cols]
        self.word_ids = [IDS[columns[j]] for j in self.word_cols]
        self.keeps_dense = set(lexicon[0].tolist()) <= set(self.word_cols)
        self._clear()

    def _clear(self) -> None:
        self.count = 0
        self.keys = np.zeros(self.FIRST_SLOTS, dtype=np.uint64)  # 0: a free slot
        self.rows = np.zeros(self.FIRST_SLOTS, dtype=np.int64)
        self.words = np.zeros(self.FIRST_SLOTS // 2, dtype=np.uint64)  # in row order
        self.values = np.zeros((self.FIRST_SLOTS // 2, len(self.word_cols)), dtype=np.uint64)
        # each word's dense values, when they are the word's alone (else none are kept)
        slots = self.lexicon[3].shape[1] if self.keeps_dense else 0
        self.dense = np.zeros((self.FIRST_SLOTS // 2, slots), dtype=np.int64)

    def own(self, doc: Doc) -> np.ndarray | None:
        """The Doc's ORTH and its tokens' own columns (None for an empty Doc). Read as each Doc
        is made, while it is still in the processor's cache, this costs a sixth less than
        reading a batch of Docs made before."""
        return doc.to_array(self.read_ids) if len(doc) else None

    def stack(self, own: list[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
        """Docs' ``own`` columns one after another, and each Doc's count of tokens."""
        lengths = np.array([0 if o is None else len(o) for o in own], dtype=np.int64)
        parts = [o for o in own if o is not None]
        if not parts:
            return np.zeros((0, len(self.read_ids)), dtype=np.uint64), lengths
        return np.concatenate(parts), lengths

    def read(self, own: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, ...]:
        """From Docs' ``own`` columns, one Doc's after another, ``lengths`` tokens each (``stack``,
        or ``chunks.ChunkTokens.batch``): (token matrix, where each Doc's rows start and end,
        each token's dense pattern values), the matrix column for column what
        ``PatternIndex.matrix`` gives."""
        kernels = scan.kernels()
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(lengths)
        orth = np.ascontiguousarray(own[:, 0])
        rows = kernels.word_rows(self.keys, self.rows, orth)
        new = rows < 0
        if new.any():
            words = np.unique(orth[new])
            if self.count + len(words) > self.MAX_WORDS:  # start again, with this batch's words
                self._clear()
                words = np.unique(orth)
            self._add(words)
            rows = kernels.word_rows(self.keys, self.rows, orth)
        mat, dense = kernels.word_matrix(
            own, rows, self.values, self.dense, self.token_array, self.word_array, self.width
        )
        if not self.keeps_dense:
            dense = kernels.dense_values(self.lexicon, mat)
        return mat, offsets, dense

    def _add(self, words: np.ndarray) -> None:
        """Read the columns of new words off a Doc of them; put them in the table."""
        kernels = scan.kernels()
        strings = self.vocab.strings
        read = Doc(self.vocab, words=[strings[int(w)] for w in words]).to_array(
            [IDS["ORTH"], *self.word_ids]
        )
        if not np.array_equal(read[:, 0], words):
            raise AssertionError("a word's ORTH changed on reading it again")
        values = read[:, 1:]
        dense = np.zeros((len(words), 0), dtype=np.int64)
        if self.keeps_dense:
            alone = np.zeros((len(words), self.width), dtype=np.uint64)
            alone[:, self.word_cols] = values
            dense = kernels.dense_values(self.lexicon, alone)
        first, self.count = self.count, self.count + len(words)
        if self.count > len(self.words):  # room for twice as many, in the table at half full
            size = 1 << max(self.count, 1).bit_length()
            self.words = resized(self.words, size)
            self.values = resized(self.values, size)
            self.dense = resized(self.dense, size)
            self.keys = np.zeros(2 * size, dtype=np.uint64)
            self.rows = np.zeros(2 * size, dtype=np.int64)
            kernels.word_insert(self.keys, self.rows, self.words[:first], 0)
        self.words[first : self.count] = words
        self.values[first : self.count] = values
        self.dense[first : self.count] = dense
        kernels.word_insert(self.keys, self.rows, words, first)


def resized(array: np.ndarray, rows: int) -> np.ndarray:
    """A copy of ``array`` with ``rows`` rows: cut, or grown with zeros."""
    out = np.zeros((rows, *array.shape[1:]), dtype=array.dtype)
    out[: min(rows, len(array))] = array[:rows]
    return out


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
