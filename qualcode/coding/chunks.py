"""spaCy's tokens of a text, put together chunk by chunk, without making Docs.

spaCy's tokeniser splits a text into runs of non-space and of whitespace (a single space after
a word belongs to the word) and tokenises each run on its own (from its cache of runs seen,
else by prefixes, suffixes, infixes and special cases); most of its time on survey answers and
long turns goes on making the Doc and its tokens, not on splitting. The rule coder needs of a
text only each token's ORTH id, its offset and where the text starts, so ``ChunkTokens`` does
the same in compiled code on a batch's characters: it splits them into those runs (chunks),
looks each chunk up in a table of chunks seen, by a hash of its characters, then compared in
full (``scan.chunk_find``; a chunk not seen before is tokenised by the same spaCy tokeniser, on
its own), and puts the texts' tokens together from the chunks' (``scan.chunk_tokens``).
``benchmarks/rules_speed.py`` prints how much faster than spaCy making Docs this is.

One thing in spaCy's tokeniser looks past a chunk: after tokenising, it looks for its special
cases (``"a.m."``, ``":("``...) as runs of tokens in the whole Doc, and the runs it finds may
reach over a space (then it leaves the tokens split otherwise than chunk by chunk). A text where
two chunks meet on tokens that stand side by side in a special case is therefore tokenised by
spaCy itself. A test checks the tokens equal spaCy's on the demo corpus, odd text and made-up
text full of special cases split by spaces, newlines and other whitespace.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from spacy.attrs import IDS
from spacy.tokenizer import Tokenizer

from qualcode.coding import scan
from qualcode.coding.matching import resized

# The token columns this can give besides ORTH: its offset, and the sentence start that spaCy's
# tokeniser alone gives, 1 at a Doc's first token. (spaCy leaves 0 there when it split the
# first chunk again for a special case, as in "It's there": a start at the first token bounds
# no clause, see ``scan._clause``, so here it is always 1.)
TOKEN_ATTRS = ("IDX", "SENT_START")


class ChunkTokens:
    """Each text's tokens (ORTH and ``attrs``, as ``Doc.to_array`` reads them from
    ``tokenizer(text)``), from a table of the chunks seen; ``batch`` reads a batch of texts.
    Past ``MAX_CHUNKS`` chunks the table starts again, so its memory stays bounded."""

    MAX_CHUNKS = 1 << 17

    def __init__(self, tokenizer: Tokenizer, attrs: list[str]) -> None:
        if not self.can_read(tokenizer, attrs):
            raise ValueError(f"ChunkTokens cannot read {attrs} with {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.ids = [IDS["ORTH"], *(IDS[name] for name in attrs)]
        self.width = 1 + len(attrs)
        self.idx = 1 + attrs.index("IDX") if "IDX" in attrs else -1
        self.sent = 1 + attrs.index("SENT_START") if "SENT_START" in attrs else -1
        # The same prefixes, suffixes and infixes, without special cases: how spaCy splits a
        # text before it looks for its special cases across the Doc.
        self.affixes = Tokenizer(
            tokenizer.vocab,
            rules={},
            prefix_search=tokenizer.prefix_search,
            suffix_search=tokenizer.suffix_search,
            infix_finditer=tokenizer.infix_finditer,
            token_match=tokenizer.token_match,
            url_match=tokenizer.url_match,
        )
        pairs = set()
        for case in tokenizer.rules or {}:
            for split in (self.affixes, tokenizer):
                orths = [token.orth for token in split(case)]
                pairs.update(pairwise(orths))
        self.pairs = np.array(sorted(pairs), dtype=np.uint64).reshape(-1, 2)
        self.pair_firsts = {a for a, _ in pairs}
        self.pair_seconds = {b for _, b in pairs}
        self._clear()

    @staticmethod
    def can_read(tokenizer, attrs: list[str]) -> bool:
        """Whether the columns can be read this way: spaCy's own tokeniser, and no token column
        but the offset and sentence start."""
        return type(tokenizer) is Tokenizer and set(attrs) <= set(TOKEN_ATTRS)

    def _clear(self) -> None:
        self.count = 0
        # chunk numbers by a hash of their characters: open addressing, at most half full
        self.keys = np.zeros(2048, dtype=np.uint64)
        self.slots = np.zeros(2048, dtype=np.int64)
        self.chars_ptr = np.zeros(1025, dtype=np.int64)  # each chunk's characters
        self.chars = np.zeros(8192, dtype=np.uint32)
        self.chunk_ptr = np.zeros(1025, dtype=np.int64)  # each chunk's tokens
        self.edges = np.zeros((1024, 5), dtype=np.uint64)
        self.tok_orth = np.zeros(2048, dtype=np.uint64)
        self.tok_off = np.zeros(2048, dtype=np.int64)

    def batch(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(every token's ORTH and columns, the texts' one after another; tokens per text)."""
        joined = "".join(texts)
        ids, offsets, counts = self._chunks(joined, texts)
        own, lengths, safe = scan.kernels().chunk_tokens(
            ids,
            offsets,
            counts,
            self.chunk_ptr,
            self.tok_orth,
            self.tok_off,
            self.edges,
            self.pairs,
            self.width,
            self.idx,
            self.sent,
        )
        if safe.all():
            return own, lengths
        # Put the texts spaCy tokenises itself in their places.
        parts, starts = [], np.concatenate(([0], np.cumsum(lengths)))
        for i, text in enumerate(texts):
            if safe[i]:
                parts.append(own[starts[i] : starts[i + 1]])
                continue
            doc = self.tokenizer(text)
            columns = doc.to_array(self.ids).reshape(-1, self.width)
            if len(doc) and self.sent >= 0:
                columns[0, self.sent] = 1  # see TOKEN_ATTRS
            parts.append(columns)
            lengths[i] = len(doc)
        return np.concatenate(parts).astype(np.uint64, copy=False), lengths

    def _chunks(self, joined: str, texts: list[str]) -> tuple[np.ndarray, ...]:
        """The chunks of ``texts`` (``joined``): each one's number in the table (tokenising the
        ones not seen before), where it starts in its text, and how many each text has."""
        codes = code_points(joined)
        lengths = np.fromiter(map(len, texts), np.int64, len(texts))
        ids, starts, ends, offsets, counts = scan.kernels().chunk_find(
            codes, lengths, self.keys, self.slots, self.chars_ptr, self.chars
        )
        missing = ids < 0
        if missing.any():
            chunks = [
                joined[a:b]
                for a, b in zip(starts[missing].tolist(), ends[missing].tolist(), strict=True)
            ]
            new = list(dict.fromkeys(chunks))
            if self.count + len(new) > self.MAX_CHUNKS:  # start again, with this batch's chunks
                self._clear()
                missing[:] = True
                chunks = [joined[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
                new = list(dict.fromkeys(chunks))
            number = {chunk: self.count + i for i, chunk in enumerate(new)}
            self._add(new)
            ids[missing] = [number[chunk] for chunk in chunks]
        return ids, offsets, counts

    def _add(self, new: list[str]) -> None:
        """Tokenise new chunks, each on its own, and put them in the table."""
        kernels = scan.kernels()
        first = self.count
        count = self.count = first + len(new)
        orths, offsets, ptr, edges = [], [], [], []
        tokens = self.chunk_ptr[first]
        for chunk in new:
            doc = self.tokenizer(chunk)
            split = self.affixes(chunk)
            orths += [token.orth for token in doc]
            offsets += [token.idx for token in doc]
            tokens += len(doc)
            ptr.append(tokens)
            if not len(doc) or not len(split):  # (never seen: spaCy makes a token of any run)
                edges.append((0, 0, 0, 0, 3))
                continue
            ends = (doc[0].orth, split[0].orth, doc[-1].orth, split[-1].orth)
            may = (ends[2] in self.pair_firsts or ends[3] in self.pair_firsts) + 2 * (
                ends[0] in self.pair_seconds or ends[1] in self.pair_seconds
            )
            edges.append((*ends, may))
        chars = code_points("".join(new))
        if count + 1 > len(self.chunk_ptr):
            size = 1 << count.bit_length()
            self.chunk_ptr = resized(self.chunk_ptr, size + 1)
            self.chars_ptr = resized(self.chars_ptr, size + 1)
            self.edges = resized(self.edges, size)
        if tokens > len(self.tok_orth):
            size = 1 << int(tokens).bit_length()
            self.tok_orth = resized(self.tok_orth, size)
            self.tok_off = resized(self.tok_off, size)
        start = self.chars_ptr[first]
        if start + len(chars) > len(self.chars):
            self.chars = resized(self.chars, 1 << int(start + len(chars)).bit_length())
        self.chars_ptr[first + 1 : count + 1] = start + np.cumsum([len(chunk) for chunk in new])
        self.chars[start : start + len(chars)] = chars
        self.chunk_ptr[first + 1 : count + 1] = ptr
        self.edges[first:count] = np.array(edges, dtype=np.uint64).reshape(-1, 5)
        start = self.chunk_ptr[first]
        self.tok_orth[start:tokens] = np.array(orths, dtype=np.uint64)
        self.tok_off[start:tokens] = offsets
        if 2 * count > len(self.keys):  # a table twice the size, every chunk put in again
            size = 1 << (2 * count).bit_length()
            self.keys = np.zeros(size, dtype=np.uint64)
            self.slots = np.zeros(size, dtype=np.int64)
            first = 0
        kernels.chunk_insert(self.keys, self.slots, self.chars_ptr, self.chars, first, count)


def code_points(text: str) -> np.ndarray:
    """A text's characters as numbers (bytes when it is ASCII, which Python knows at once)."""
    if text.isascii():
        return np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
