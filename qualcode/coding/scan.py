"""The rule coder's pass over a batch of Docs, compiled with numba: pattern matching, negation,
contrast and wishes around each match, and the grouping of matches into codes and evidence.

Everything here works on integer arrays (token attributes from ``Doc.to_array``, the codebook's
patterns compiled by ``qualcode.coding.matching``, the cue words of
``qualcode.coding.negation``), so a match costs the same few machine instructions in a ten-word
answer and in a 400,000-word turn with no full stop. Python only turns the results into
Assignments and Evidence, with the reasons as text. All compiled functions live in this one
module because numba's on-disk cache (``cache=True``: compiled once per machine, then loaded)
does not notice a change to a compiled function imported from another file.

What the checks mean, in words (the codebook's rules of coding):

- A match's *clause* runs from just after the last clause word or clause punctuation before it
  (or a sentence start) to the next one. A negation word in the clause before the match, or
  after it, denies it; for a barrier, a negation after the match counts only when a problem
  word follows it ("cost shunting was never the problem", not "cost shunting didn't stop"). A
  negation inside the match is part of what it says ("nobody owns"). Two denials cancel.
- A match's *stretch* runs up to a contrast ("but", "yet", "however", "whereas", ";", "in
  practice"). The thing exists in name only when "on paper", "in theory", "so-called",
  "supposed to"... stands before it in the stretch; when "in name only" or "nominally" follows it
  in its clause (or "on paper" does, and the sentence then turns); when a claim ("we talk
  about", "officially") stands before it and the sentence turns to what is real ("but in
  practice"); when "but what we actually have" follows; or when "rather than", "instead of",
  "as opposed to" ends at most three words before it in its clause. A contrast counts as one
  more denial.
- Otherwise a wish in the clause ("wish", "if only", "would like") says the thing is absent.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np

_KERNELS: list[str] = []


def kernel(function):
    """Mark a function of this module as a kernel, compiled with numba when the kernels are first
    needed (``kernels``): a process that never codes with rules (the one that owns the store,
    when Dask workers code) never imports numba, which costs 60 MB, 80 to 100 MB with the
    kernels loaded."""
    _KERNELS.append(function.__name__)
    return function


@lru_cache(maxsize=1)
def kernels():
    """This module with its kernels compiled: numba loads them from its cache on disk, or
    compiles them (about 10 s, once per machine). Kernels call one another by their module
    names, so all are compiled together."""
    from numba import njit

    module = sys.modules[__name__]
    for name in _KERNELS:
        setattr(module, name, njit(cache=True)(getattr(module, name)))
    return module


# Contexts (``negation.Context`` in this order).
PLAIN, NEGATED, WISH, CONTRAST = 0, 1, 2, 3

# Pattern token operators.
REQUIRED, OPTIONAL, PLUS, STAR = 0, 1, 2, 3

# Word classes, one bit each, marked per token from its lower-case form (``word_classes``).
BOUNDARY = 1  # clause words and clause punctuation
NEGATOR = 2  # negation words
NOT_NEGATING = 4  # "just", "only"...: "not just" negates nothing
PROBLEM = 8  # "problem", "issue"...
WISH_WORD = 16  # "wish", "ideally"
IF_WORD = 32
ONLY_WORD = 64
WOULD = 128  # "would", "'d"
LIKE = 256  # "like", "love"
SENTENCE_END = 512
CONTRAST_WORD = 1024  # "but", "yet", "however", "whereas", ";"
REALITY = 2048  # "actually", "really", "practice"...
PUNCT = 4096  # clause punctuation
PHRASE_FIRST = 8192  # the first word of a cue phrase

# The lists of token positions a Doc's checks bisect.
STARTS, BOUNDARIES, STOPS, NEGATORS, PROBLEMS, WISHES = 0, 1, 2, 3, 4, 5
NOMINAL_BEFORE, NOMINAL_ANY, NOMINAL_AFTER, CLAIMS = 6, 7, 8, 9
LISTS = 10

# The cue phrase tables (``negation.phrase_tables`` in this order).
P_OPENER, P_ANYWHERE, P_BEFORE, P_AFTER, P_CLAIM, P_REAL_HAVE, P_ALTERNATIVE = range(7)

REALITY_REACH = 4  # how far after a contrast word the sentence may turn to what is real
ALTERNATIVE_WORDS = 3  # "rather than" ends at most this many words before the match

# The first columns of the token matrix every batch is read into; the patterns' own attributes
# (LEMMA...) follow (``matching.PatternIndex.columns``).
TOKEN_ATTRS = ("LOWER", "SENT_START", "IS_PUNCT", "IS_STOP", "IS_SPACE", "IDX", "LENGTH")
C_LOWER, C_SENT_START, C_IS_PUNCT, C_IS_STOP, C_IS_SPACE, C_IDX, C_LENGTH = range(7)


# -- patterns ---------------------------------------------------------------------------------


@kernel
def candidates(pt, dense, mat, offsets):
    """Every pattern's matches in every Doc of a batch: rows (Doc, key, start, end), starts and
    ends counted within the Doc, in no order, with every end found for a key and start (see
    ``matching.longest``).

    A pattern is tried only where its anchor (its rarest required token) matches, from each
    start its optional tokens before the anchor allow; then every way through its optional and
    repeated tokens, depth first on a stack (rows: pattern token, Doc token). It is one
    function on purpose: a call per try, passing the pattern arrays, costs more than the try.
    """
    spec_op, spec_v0, spec_v1, vc_slot, vc_ptr, vc_vals = pt[0], pt[1], pt[2], pt[3], pt[4], pt[5]
    spec_f0, spec_f1, fc_col, fc_want, pat_s0, pat_s1 = pt[6], pt[7], pt[8], pt[9], pt[10], pt[11]
    pat_key, anchor_ptr, anchor_pat, anchor_off = pt[12], pt[13], pt[14], pt[15]
    unanchored = pt[16]
    slots = dense.shape[1]
    stack = np.empty((64, 2), np.int64)
    found = np.empty((1024, 4), np.int64)
    count = 0
    for d in range(offsets.shape[0] - 1):
        lo, hi = offsets[d], offsets[d + 1]
        for i in range(lo, hi):
            for v in range(slots + 1):
                if v < slots:
                    g = dense[i, v]
                    if g < 0:
                        continue
                    first, last = anchor_ptr[g], anchor_ptr[g + 1]
                else:
                    first, last = 0, unanchored.shape[0]
                for q in range(first, last):
                    if v < slots:
                        p, start = anchor_pat[q], i - anchor_off[q]
                    else:
                        p, start = unanchored[q], i
                    if start < lo:
                        continue
                    s0 = pat_s0[p]
                    length = pat_s1[p] - s0
                    end = -1
                    stack[0, 0], stack[0, 1] = 0, start
                    top = 1
                    while top:
                        top -= 1
                        k, t = stack[top, 0], stack[top, 1]
                        if k == length:
                            end = max(end, t)
                            continue
                        if top + 2 > stack.shape[0]:
                            stack = _grown(stack, top)
                        s = s0 + k
                        op = spec_op[s]
                        # does token t satisfy pattern token s: every value it names, every flag?
                        ok = t < hi
                        j = spec_v0[s]
                        while ok and j < spec_v1[s]:
                            value = dense[t, vc_slot[j]]
                            ok = False
                            if value >= 0:
                                for x in range(vc_ptr[j], vc_ptr[j + 1]):  # a few: scan them
                                    if vc_vals[x] == value:
                                        ok = True
                                        break
                            j += 1
                        j = spec_f0[s]
                        while ok and j < spec_f1[s]:
                            ok = (mat[t, fc_col[j]] != 0) == (fc_want[j] != 0)
                            j += 1
                        if op in (OPTIONAL, STAR):  # skip it
                            stack[top, 0], stack[top, 1] = k + 1, t
                            top += 1
                        if ok and op != STAR:  # take it and go on
                            stack[top, 0], stack[top, 1] = k + 1, t + 1
                            top += 1
                        if ok and (op in (PLUS, STAR)):  # take it, maybe more
                            stack[top, 0], stack[top, 1] = k, t + 1
                            top += 1
                    if end >= 0:
                        if count == found.shape[0]:
                            found = _grown(found, count)
                        found[count, 0], found[count, 1] = d, pat_key[p]
                        found[count, 2], found[count, 3] = start - lo, end - lo
                        count += 1
    return found[:count]


@kernel
def _grown(rows, used):
    """``rows`` twice as long, its first ``used`` rows kept."""
    out = np.empty((rows.shape[0] * 2, rows.shape[1]), rows.dtype)
    out[:used] = rows[:used]
    return out


@kernel
def _bisect(keys, first, last, x):
    """The position of x in the sorted ``keys[first:last]``, else -1."""
    end = last
    while first < last:
        middle = (first + last) // 2
        if keys[middle] < x:
            first = middle + 1
        else:
            last = middle
    return first if first < end and keys[first] == x else -1


# A word id's low bits index a bitmap of the ids a lexicon holds, so most words, named by no
# pattern and no cue, are passed over without a search.
SIEVE_BITS = 16


@kernel
def _sieve(keys):
    mask = np.zeros(1 << SIEVE_BITS, np.bool_)
    for key in keys:
        mask[key & ((1 << SIEVE_BITS) - 1)] = True
    return mask


@kernel
def dense_values(lexicon, mat):
    """Each token's dense value number in each pattern slot, -1 where no pattern names it."""
    lex_col, lex_ptr, lex_keys, lex_vals = lexicon
    out = np.full((mat.shape[0], lex_vals.shape[1]), -1, np.int64)
    low = (1 << SIEVE_BITS) - 1
    for h in range(lex_col.shape[0]):
        sieve = _sieve(lex_keys[lex_ptr[h] : lex_ptr[h + 1]])
        for t in range(mat.shape[0]):
            word = mat[t, lex_col[h]]
            if not sieve[word & low]:
                continue
            row = _bisect(lex_keys, lex_ptr[h], lex_ptr[h + 1], word)
            if row >= 0:
                for v in range(lex_vals.shape[1]):
                    if lex_vals[row, v] >= 0:
                        out[t, v] = lex_vals[row, v]
    return out


@kernel
def word_classes(words, bits, mat):
    """Each token's cue word class bits, from its lower-case word."""
    out = np.zeros(mat.shape[0], np.int64)
    sieve = _sieve(words)
    low = (1 << SIEVE_BITS) - 1
    for t in range(mat.shape[0]):
        if not sieve[mat[t, C_LOWER] & low]:
            continue
        row = _bisect(words, 0, words.shape[0], mat[t, C_LOWER])
        if row >= 0:
            out[t] = bits[row]
    return out


# -- the words seen ---------------------------------------------------------------------------
# An open-addressing table of words by ORTH id (a hash, so its low bits spread well; 0, the
# empty string's id, marks a free slot), giving each word's row in ``matching.WordTable``.


@kernel
def word_rows(keys, rows, orth):
    """Each token's row in the word table, -1 where its word is not in it yet."""
    mask = np.uint64(keys.shape[0] - 1)
    free = np.uint64(0)
    out = np.empty(orth.shape[0], np.int64)
    for t in range(orth.shape[0]):
        word = orth[t]
        s = np.int64(word & mask)
        while True:
            if keys[s] == word:
                out[t] = rows[s]
                break
            if keys[s] == free:
                out[t] = -1
                break
            s = (s + 1) % keys.shape[0]
    return out


@kernel
def word_insert(keys, rows, words, first):
    """Put ``words`` (distinct, not yet in the table) in it, with rows first, first + 1..."""
    mask = np.uint64(keys.shape[0] - 1)
    free = np.uint64(0)
    for i in range(words.shape[0]):
        s = np.int64(words[i] & mask)
        while keys[s] != free:
            s = (s + 1) % keys.shape[0]
        keys[s] = words[i]
        rows[s] = first + i


@kernel
def word_matrix(own, rows, values, dense, token_cols, word_cols, width):
    """The token matrix (``width`` columns): the token's own columns (``own`` after its first,
    ORTH) and its word's ``values`` (its row of the word table); and each token's dense values."""
    mat = np.empty((own.shape[0], width), np.uint64)
    out = np.empty((own.shape[0], dense.shape[1]), np.int64)
    for t in range(own.shape[0]):
        for j in range(token_cols.shape[0]):
            mat[t, token_cols[j]] = own[t, j + 1]
        r = rows[t]
        for j in range(word_cols.shape[0]):
            mat[t, word_cols[j]] = values[r, j]
        for j in range(dense.shape[1]):
            out[t, j] = dense[r, j]
    return mat, out


# -- tokens by chunk ---------------------------------------------------------------------------
# ``qualcode.coding.chunks``: a text's tokens put together from its chunks' (runs of non-space
# and of whitespace, as spaCy's tokeniser splits them), each chunk's tokens kept in a table by
# a hash of its characters: their ORTH ids and offsets in the chunk.


@kernel
def _chunk_hash(codes, start, end):
    """FNV-1a of the code points ``codes[start:end]`` (never 0, which marks a free slot)."""
    h = np.uint64(14695981039346656037)
    for i in range(start, end):
        h = (h ^ np.uint64(codes[i])) * np.uint64(1099511628211)
    return h if h != 0 else np.uint64(1)


@kernel
def _chunk_at(codes, start, end, keys, slots, chars_ptr, chars):
    """The number of the chunk ``codes[start:end]`` in the table of chunks, else -1."""
    h = _chunk_hash(codes, start, end)
    mask = np.uint64(keys.shape[0] - 1)
    s = np.int64(h & mask)
    while keys[s] != 0:
        if keys[s] == h:
            c = slots[s]
            a = chars_ptr[c]
            if chars_ptr[c + 1] - a == end - start:
                same = True
                for i in range(end - start):
                    if chars[a + i] != codes[start + i]:
                        same = False
                        break
                if same:
                    return c
        s = (s + 1) % keys.shape[0]
    return -1


@kernel
def _is_space(c):
    """Whether the code point is whitespace (Python's ``str.isspace``, as spaCy's tokeniser
    splits)."""
    return (
        c == 32
        or 9 <= c <= 13
        or 28 <= c <= 31
        or c == 0x85
        or c == 0xA0
        or c == 0x1680
        or 0x2000 <= c <= 0x200A
        or c == 0x2028
        or c == 0x2029
        or c == 0x202F
        or c == 0x205F
        or c == 0x3000
    )


@kernel
def chunk_find(codes, lengths, keys, slots, chars_ptr, chars):
    """Texts one after another (their code points ``codes``, ``lengths`` characters each), split
    as spaCy's tokeniser splits them: into runs of non-space and of whitespace; a whitespace
    run is a chunk too, less its first character when that is a space after a word. Gives
    (each chunk's number in the table of chunks or -1, where it starts and ends in ``codes``,
    where it starts in its text, chunks per text)."""
    n = 0
    position = 0
    for t in range(lengths.shape[0]):
        last = position + lengths[t]
        for i in range(position, last):
            if i == position or _is_space(codes[i]) != _is_space(codes[i - 1]):
                n += 1
        position = last
    ids = np.empty(n, np.int64)
    starts = np.empty(n, np.int64)
    ends = np.empty(n, np.int64)
    offsets = np.empty(n, np.int64)
    counts = np.zeros(lengths.shape[0], np.int64)
    c = 0
    position = 0
    for t in range(lengths.shape[0]):
        last = position + lengths[t]
        i = position
        while i < last:
            space = _is_space(codes[i])
            j = i + 1
            while j < last and _is_space(codes[j]) == space:
                j += 1
            start = i + 1 if space and codes[i] == 32 and i > position else i
            if start < j:
                ids[c] = _chunk_at(codes, start, j, keys, slots, chars_ptr, chars)
                starts[c], ends[c], offsets[c] = start, j, start - position
                c += 1
                counts[t] += 1
            i = j
        position = last
    return ids[:c], starts[:c], ends[:c], offsets[:c], counts


@kernel
def chunk_insert(keys, slots, chars_ptr, chars, first, last):
    """Put chunks first to last - 1 (their code points ``chars[chars_ptr[c]:chars_ptr[c + 1]]``,
    not in the table yet) in the table."""
    mask = np.uint64(keys.shape[0] - 1)
    for c in range(first, last):
        h = _chunk_hash(chars, chars_ptr[c], chars_ptr[c + 1])
        s = np.int64(h & mask)
        while keys[s] != 0:
            s = (s + 1) % keys.shape[0]
        keys[s] = h
        slots[s] = c


@kernel
def chunk_tokens(
    ids, offsets, counts, chunk_ptr, tok_orth, tok_off, edges, pairs, width, idx, sent
):
    """The tokens of texts given as chunks (``chunk_find``: their numbers, where each starts in
    its text, ``counts`` chunks per text): (each token's ORTH and own columns, ``width`` in all:
    the ORTH in column 0, its offset in the text in column ``idx`` and 1 at each text's first
    token in column ``sent``, where either is >= 0; tokens per text; whether each text is safe,
    no two chunks in it meeting on tokens that spaCy's special cases join).

    ``edges[c]``: a chunk's first and last tokens as its tokeniser and as the affixes alone
    split it, and whether its last tokens may start such a pair (1) and its first end one (2);
    ``pairs``: the (first, second) tokens that stand side by side in a special case, sorted."""
    total = 0
    for k in range(ids.shape[0]):
        total += chunk_ptr[ids[k] + 1] - chunk_ptr[ids[k]]
    own = np.zeros((total, width), np.uint64)
    lengths = np.zeros(counts.shape[0], np.int64)
    safe = np.ones(counts.shape[0], np.bool_)
    firsts = pairs[:, 0].copy()
    row = 0
    k = 0
    for t in range(counts.shape[0]):
        first = row
        for j in range(counts[t]):
            c = ids[k]
            if (
                j > 0
                and edges[ids[k - 1], 4] & 1
                and edges[c, 4] & 2
                and _joined(edges[ids[k - 1]], edges[c], firsts, pairs)
            ):
                safe[t] = False
            for q in range(chunk_ptr[c], chunk_ptr[c + 1]):
                own[row, 0] = tok_orth[q]
                if idx >= 0:
                    own[row, idx] = offsets[k] + tok_off[q]
                row += 1
            k += 1
        if sent >= 0 and row > first:
            own[first, sent] = 1
        lengths[t] = row - first
    return own, lengths, safe


@kernel
def _joined(before, after, firsts, pairs):
    """Whether a special case may join the last tokens of one chunk (``before[2:4]``) to the
    first of the next (``after[:2]``)."""
    for a in range(2, 4):
        i = _bisect(firsts, 0, firsts.shape[0], before[a])
        if i < 0:
            continue
        while i < pairs.shape[0] and pairs[i, 0] == before[a]:
            if pairs[i, 1] == after[0] or pairs[i, 1] == after[1]:
                return True
            i += 1
    return False


# -- a Doc's cue words ------------------------------------------------------------------------


@kernel
def _phrase_at(lower, i, table, lengths):
    """Length of the first phrase of ``table`` that starts at token i, else 0."""
    n = lower.shape[0]
    for p in range(table.shape[0]):
        size = lengths[p]
        if i + size <= n:
            same = True
            for j in range(size):
                if lower[i + j] != table[p, j]:
                    same = False
                    break
            if same:
                return size
    return 0


@kernel
def _push(lists, counts, which, i):
    if counts[which] == 0 or lists[which, counts[which] - 1] != i:
        lists[which, counts[which]] = i
        counts[which] += 1


@kernel
def _mark(lower, cls, mat, tables, lengths, lists, counts):
    """One pass over a Doc: where its sentences start, and where each kind of cue stands."""
    n = lower.shape[0]
    counts[:] = 0
    for i in range(n):
        if mat[i, C_SENT_START] == 1:
            _push(lists, counts, STARTS, i)
        c = cls[i]
        if c == 0:
            continue
        nxt = cls[i + 1] if i + 1 < n else 0
        if c & BOUNDARY:
            _push(lists, counts, BOUNDARIES, i)
        if c & NEGATOR and not nxt & NOT_NEGATING:
            _push(lists, counts, NEGATORS, i)
        if c & PROBLEM:
            _push(lists, counts, PROBLEMS, i)
        if c & WISH_WORD or (c & IF_WORD and nxt & ONLY_WORD) or (c & WOULD and nxt & LIKE):
            _push(lists, counts, WISHES, i)
        if c & (SENTENCE_END | CONTRAST_WORD):
            _push(lists, counts, STOPS, i)
        if c & PHRASE_FIRST:
            if _phrase_at(lower, i, tables[P_OPENER], lengths[P_OPENER]):
                _push(lists, counts, STOPS, i)
            if _phrase_at(lower, i, tables[P_ANYWHERE], lengths[P_ANYWHERE]):
                _push(lists, counts, NOMINAL_ANY, i)
            if _phrase_at(lower, i, tables[P_BEFORE], lengths[P_BEFORE]):
                _push(lists, counts, NOMINAL_BEFORE, i)
            if _phrase_at(lower, i, tables[P_AFTER], lengths[P_AFTER]):
                _push(lists, counts, NOMINAL_AFTER, i)
            if _phrase_at(lower, i, tables[P_CLAIM], lengths[P_CLAIM]):
                _push(lists, counts, CLAIMS, i)


@kernel
def _last_upto(lists, counts, which, i):
    """The last position of a list at or before i, else -1."""
    k = np.searchsorted(lists[which, : counts[which]], i, side="right")
    return lists[which, k - 1] if k else -1


@kernel
def _first_from(lists, counts, which, i, default):
    """The first position of a list at or after i, else ``default``."""
    k = np.searchsorted(lists[which, : counts[which]], i)
    return lists[which, k] if k < counts[which] else default


@kernel
def _clause(lists, counts, n, start, end):
    """The clause around tokens [start, end): from just after the last clause word or
    punctuation before it (or a sentence start) to the next."""
    c_start = max(
        0,
        _last_upto(lists, counts, STARTS, start),
        _last_upto(lists, counts, BOUNDARIES, start - 1) + 1,
    )
    c_end = min(
        _first_from(lists, counts, STARTS, end, n), _first_from(lists, counts, BOUNDARIES, end, n)
    )
    return c_start, c_end


@kernel
def _stretch(lower, lists, counts, tables, lengths, start, end):
    """The part of the sentence around tokens [start, end) up to a contrast (exclusive)."""
    n = lower.shape[0]
    a = max(
        0, _last_upto(lists, counts, STARTS, start), _last_upto(lists, counts, STOPS, start - 1) + 1
    )
    if a > 0 and _phrase_at(lower, a - 1, tables[P_OPENER], lengths[P_OPENER]):
        a += 1  # "in practice" opens this stretch: its second word is not part of it
    b = min(_first_from(lists, counts, STARTS, end, n), _first_from(lists, counts, STOPS, end, n))
    return a, b


@kernel
def _contrast(lower, cls, lists, counts, tables, lengths, start, end, c_start, c_end):
    """The token where a cue says the match exists in name only or is set against what really
    happens, else -1 (see the module's docstring)."""
    n = lower.shape[0]
    a, b = _stretch(lower, lists, counts, tables, lengths, start, end)
    i = _first_from(lists, counts, NOMINAL_BEFORE, a, n)
    if i < start:
        return i
    opener = b < n and _phrase_at(lower, b, tables[P_OPENER], lengths[P_OPENER]) > 0
    turns = b < n and (cls[b] & CONTRAST_WORD != 0 or opener)
    i = _first_from(lists, counts, NOMINAL_AFTER, end, n)
    if turns:
        i = min(i, _first_from(lists, counts, NOMINAL_ANY, end, n))
    if i < c_end:
        return i
    # does the sentence turn at b to what is real ("but in practice", "but what we actually
    # have")? the latter says alone that what came before is nominal
    real = False
    if b < n:
        if opener:
            real = True
        elif cls[b] & CONTRAST_WORD:
            for j in range(b + 1, min(n, b + 1 + REALITY_REACH)):
                if _phrase_at(lower, j, tables[P_REAL_HAVE], lengths[P_REAL_HAVE]):
                    return b
                if cls[j] & REALITY:
                    real = True
    if real:
        i = _first_from(lists, counts, CLAIMS, a, n)
        if i < start:
            return i
    # "rather than (having) a pooled budget", with no clause break between
    reach = ALTERNATIVE_WORDS + tables[P_ALTERNATIVE].shape[1]
    for i in range(max(0, c_start - 2, start - reach), start):
        size = _phrase_at(lower, i, tables[P_ALTERNATIVE], lengths[P_ALTERNATIVE])
        if size and start - (i + size) <= ALTERNATIVE_WORDS:
            clear = True
            for j in range(i + size, start):
                if cls[j] & PUNCT:
                    clear = False
                    break
            if clear:
                return i
    return -1


@kernel
def _cue_end(lower, cls, tables, lengths, i):
    """Where the contrast cue at token i ends ("on paper", "but what we actually have")."""
    for t in (P_BEFORE, P_CLAIM, P_ALTERNATIVE, P_OPENER):
        size = _phrase_at(lower, i, tables[t], lengths[t])
        if size:
            return i + size
    n = lower.shape[0]
    stop = i + 1
    while stop < min(n, i + 1 + REALITY_REACH) and not cls[stop] & PUNCT:
        stop += 1
        if cls[stop - 1] & REALITY and stop < n:
            stop += 1  # "actually have"
            break
    return stop


@kernel
def _context(lower, cls, lists, counts, tables, lengths, start, end, barrier):
    """(context, cue start, cue end) of the match at tokens [start, end)."""
    n = lower.shape[0]
    c_start, c_end = _clause(lists, counts, n, start, end)
    negators = lists[NEGATORS, : counts[NEGATORS]]
    after_end = c_end
    if barrier:
        after_end = min(c_end, _last_upto(lists, counts, PROBLEMS, c_end - 1))
    b0 = np.searchsorted(negators, c_start)
    b1 = np.searchsorted(negators, start)
    a0 = np.searchsorted(negators, end)
    a1 = np.searchsorted(negators, max(end, after_end))
    count = b1 - b0 + a1 - a0
    contrast = _contrast(lower, cls, lists, counts, tables, lengths, start, end, c_start, c_end)
    if (count + (contrast >= 0)) % 2 == 1:
        if contrast >= 0:
            return CONTRAST, contrast, _cue_end(lower, cls, tables, lengths, contrast)
        first = negators[b0] if b1 > b0 else negators[a0]
        return NEGATED, first, first + 1
    i = _first_from(lists, counts, WISHES, c_start, c_end)
    if i < c_end:
        return WISH, i, i + 1
    return PLAIN, -1, -1


@kernel
def _phrase_end(mat, lists, counts, start, end):
    """A match that ends on a function word ("pooled the") reaches on to the next word or two of
    its clause ("pooled the lot"), so the evidence reads as a phrase."""
    n = mat.shape[0]
    clause_end = _clause(lists, counts, n, start, end)[1]
    limit = min(clause_end, end + 2)
    while (
        end < limit
        and mat[end - 1, C_IS_STOP] != 0
        and not (mat[end, C_IS_PUNCT] != 0 or mat[end, C_IS_SPACE] != 0)
    ):
        end += 1
    return end


# -- a batch ----------------------------------------------------------------------------------


@kernel
def contexts(matches, ct, cls, tables, lengths, negation, mat, offsets):
    """What each match of a batch counts for, after near misses and negation.

    ``matches``: rows (Doc, key, start, end) sorted by Doc, start, end and key name. ``ct``: per
    key its code and whether it is a near miss (exclude pattern); per code whether it is a
    barrier, whether a prerequisite, and its paired barrier (or -1).

    Returns ``rows`` (Doc, order of its code in the Doc, code, key, start, phrase end, context,
    cue start, cue end, whether flipped to the paired barrier), one per match that counts, in
    order; and ``denied`` (Doc, code): the codes a Doc mentions only as absent.
    """
    key_code, key_exclude, barrier, prerequisite, paired = ct
    n_codes = barrier.shape[0]
    longest = 0
    for d in range(offsets.shape[0] - 1):
        longest = max(longest, offsets[d + 1] - offsets[d])
    lists = np.empty((LISTS, longest + 1), np.int64)
    counts = np.zeros(LISTS, np.int64)
    order = np.full(n_codes, -1, np.int64)  # a code's place among its Doc's codes
    denied_in = np.zeros(n_codes, np.bool_)
    found = np.empty(n_codes, np.int64)
    absent = np.empty(n_codes, np.int64)
    rows = np.empty((matches.shape[0], 10), np.int64)
    denied = np.empty((matches.shape[0], 2), np.int64)
    near = np.empty(matches.shape[0], np.int64)
    n_rows = n_denied = 0
    m = 0
    while m < matches.shape[0]:
        d = matches[m, 0]
        last = m
        while last < matches.shape[0] and matches[last, 0] == d:
            last += 1
        lo, hi = offsets[d], offsets[d + 1]
        lower, doc_mat, doc_cls = mat[lo:hi, C_LOWER], mat[lo:hi], cls[lo:hi]
        marked = False
        n_found = n_absent = n_near = 0
        for j in range(m, last):  # the near misses (exclude patterns' matches): few, if any
            if key_exclude[matches[j, 1]]:
                near[n_near] = j
                n_near += 1
        for j in range(m, last):
            key, start, end = matches[j, 1], matches[j, 2], matches[j, 3]
            code = key_code[key]
            if key_exclude[key]:
                continue
            near_miss = False  # does a near miss of this code overlap it?
            for x in near[:n_near]:
                overlaps = matches[x, 2] < end and start < matches[x, 3]
                if overlaps and key_code[matches[x, 1]] == code:
                    near_miss = True
                    break
            if near_miss:
                continue
            if not marked:
                _mark(lower, doc_cls, doc_mat, tables, lengths, lists, counts)
                marked = True
            ctx, cue0, cue1 = PLAIN, -1, -1
            if negation:
                ctx, cue0, cue1 = _context(
                    lower, doc_cls, lists, counts, tables, lengths, start, end, barrier[code]
                )
            target, flip = code, 0
            if ctx != PLAIN:
                if not denied_in[code]:
                    denied_in[code] = True
                    absent[n_absent] = code
                    n_absent += 1
                if not prerequisite[code] or paired[code] < 0:
                    continue  # a bare denial is never the barrier
                target, flip = paired[code], 1
            if order[target] < 0:
                order[target] = n_found
                found[n_found] = target
                n_found += 1
            row = rows[n_rows]
            row[0], row[1], row[2], row[3], row[4] = d, order[target], target, key, start
            row[5] = _phrase_end(doc_mat, lists, counts, start, end)
            row[6], row[7], row[8], row[9] = ctx, cue0, cue1, flip
            n_rows += 1
        for a in range(n_absent):
            code = absent[a]
            denied_in[code] = False
            if order[code] < 0:  # only absent, never a code of this Doc
                denied[n_denied, 0], denied[n_denied, 1] = d, code
                n_denied += 1
        for a in range(n_found):
            order[found[a]] = -1
        m = last
    return rows[:n_rows], denied[:n_denied]


@kernel
def merge(rows, n_keys):
    """Codes, evidence and reasons from ``rows`` sorted by Doc, code order, start and phrase end
    (ties in match order).

    Returns ``codes`` (Doc, code, distinct keys, whether any match was plain, evidence count),
    ``evidence`` (start, end, reason count): a code's phrases, merged where they overlap, and
    ``reasons`` (key, context, cue start, cue end) in order, without repeats.
    """
    codes = np.empty((rows.shape[0], 5), np.int64)
    evidence = np.empty((rows.shape[0], 3), np.int64)
    reasons = np.empty((rows.shape[0], 4), np.int64)
    key_seen = np.full(n_keys, -1, np.int64)  # the code (row of ``codes``) that counted a key
    n_codes = n_evidence = n_reasons = 0
    r = 0
    while r < rows.shape[0]:
        c = n_codes
        codes[c, 0], codes[c, 1], codes[c, 2], codes[c, 3], codes[c, 4] = (
            rows[r, 0],
            rows[r, 2],
            0,
            0,
            0,
        )
        n_codes += 1
        open_end = -1
        first_reason = n_reasons
        while r < rows.shape[0] and rows[r, 0] == codes[c, 0] and rows[r, 2] == codes[c, 1]:
            key, start, end = rows[r, 3], rows[r, 4], rows[r, 5]
            if key_seen[key] != c:
                key_seen[key] = c
                codes[c, 2] += 1
            if not rows[r, 9]:
                codes[c, 3] = 1
            if open_end >= 0 and start < open_end:
                open_end = max(open_end, end)
                evidence[n_evidence - 1, 1] = open_end
            else:
                evidence[n_evidence, 0], evidence[n_evidence, 1], evidence[n_evidence, 2] = (
                    start,
                    end,
                    0,
                )
                n_evidence += 1
                codes[c, 4] += 1
                open_end = end
                first_reason = n_reasons
            repeat = False
            for q in range(first_reason, n_reasons):
                if (
                    reasons[q, 0] == key
                    and reasons[q, 1] == rows[r, 6]
                    and reasons[q, 2] == rows[r, 7]
                    and reasons[q, 3] == rows[r, 8]
                ):
                    repeat = True
                    break
            if not repeat:
                reasons[n_reasons, 0], reasons[n_reasons, 1] = key, rows[r, 6]
                reasons[n_reasons, 2], reasons[n_reasons, 3] = rows[r, 7], rows[r, 8]
                n_reasons += 1
                evidence[n_evidence - 1, 2] += 1
            r += 1
    return codes[:n_codes], evidence[:n_evidence], reasons[:n_reasons]


# -- the cue words as arrays (built once, from ``qualcode.coding.negation``) ------------------


class CueWords:
    """The negation module's words as the arrays the compiled checks read: one class bit per
    marked word (``classes``), and each kind of cue phrase as a padded table of word ids."""

    def __init__(self) -> None:
        from qualcode.coding import negation as n

        bits: dict[int, int] = {}
        for bit, ids in (
            (BOUNDARY, n.BOUNDARY_IDS),
            (NEGATOR, n.NEGATION_IDS),
            (NOT_NEGATING, n.NOT_NEGATING_IDS),
            (PROBLEM, n.PROBLEM_IDS),
            (WISH_WORD, n.WISH_IDS),
            (IF_WORD, {n.IF}),
            (ONLY_WORD, {n.ONLY}),
            (WOULD, n.WOULD_IDS),
            (LIKE, n.LIKE_IDS),
            (SENTENCE_END, n.SENTENCE_END_IDS),
            (CONTRAST_WORD, n.CONTRAST_IDS),
            (REALITY, n.REALITY_IDS),
            (PUNCT, n.PUNCT_IDS),
        ):
            for word in ids:
                bits[word] = bits.get(word, 0) | bit
        phrases = (
            n.REALITY_OPENER_PHRASES,  # P_OPENER
            n.NOMINAL_ANYWHERE,  # P_ANYWHERE
            n.NOMINAL_ANYWHERE + n.NOMINAL_BEFORE,  # P_BEFORE
            n.NOMINAL_AFTER,  # P_AFTER
            n.CLAIM_PHRASES,  # P_CLAIM
            n.REAL_HAVE_PHRASES,  # P_REAL_HAVE
            n.ALTERNATIVE_PHRASES,  # P_ALTERNATIVE
        )
        for group in phrases:
            for phrase in group:
                bits[phrase[0]] = bits.get(phrase[0], 0) | PHRASE_FIRST
        self.words = np.array(sorted(bits), dtype=np.uint64)
        self.bits = np.array([bits[w] for w in sorted(bits)], dtype=np.int64)
        tables, lengths = [], []
        for group in phrases:
            table = np.zeros((len(group), max(len(p) for p in group)), dtype=np.uint64)
            for row, phrase in enumerate(group):
                table[row, : len(phrase)] = phrase
            tables.append(table)
            lengths.append(np.array([len(p) for p in group], dtype=np.int64))
        self.tables = tuple(tables)
        self.lengths = tuple(lengths)


@lru_cache(maxsize=1)
def cue_words() -> CueWords:
    """The cue word arrays, built once per process."""
    return CueWords()
