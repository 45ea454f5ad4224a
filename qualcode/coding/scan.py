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

from functools import lru_cache

import numpy as np
from numba import njit

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


@njit(cache=True)
def _find(pt, key_rank, dense, mat, stack):
    """Every pattern's longest match at every start: (keys, starts, ends) in order of start,
    end and key name.

    A pattern is tried only where its anchor (its rarest required token) matches, from each
    start its optional tokens before the anchor allow; then every way through its optional and
    repeated tokens, depth first on ``stack`` (rows: pattern token, Doc token). It is one
    function on purpose: a call per try, passing the pattern arrays, costs more than the try.
    """
    spec_op, spec_v0, spec_v1, vc_slot, vc_ptr, vc_vals = pt[0], pt[1], pt[2], pt[3], pt[4], pt[5]
    spec_f0, spec_f1, fc_col, fc_want, pat_s0, pat_s1 = pt[6], pt[7], pt[8], pt[9], pt[10], pt[11]
    pat_key, anchor_ptr, anchor_pat, anchor_off = pt[12], pt[13], pt[14], pt[15]
    unanchored = pt[16]
    n = dense.shape[0]
    slots = dense.shape[1]
    n_keys = key_rank.shape[0]
    found = np.empty((64, 3), np.int64)  # key, start, end
    count = 0
    for i in range(n):
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
                if start < 0:
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
                        grown = np.empty((stack.shape[0] * 2, 2), np.int64)
                        grown[:top] = stack[:top]
                        stack = grown
                    s = s0 + k
                    op = spec_op[s]
                    # does token t satisfy pattern token s: every value it names, every flag?
                    ok = t < n
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
                    if op == OPTIONAL or op == STAR:  # skip it
                        stack[top, 0], stack[top, 1] = k + 1, t
                        top += 1
                    if ok and op != STAR:  # take it and go on
                        stack[top, 0], stack[top, 1] = k + 1, t + 1
                        top += 1
                    if ok and (op == PLUS or op == STAR):  # take it, maybe more
                        stack[top, 0], stack[top, 1] = k, t + 1
                        top += 1
                if end >= 0:
                    if count == found.shape[0]:
                        found = np.concatenate((found, found))
                    found[count, 0], found[count, 1], found[count, 2] = pat_key[p], start, end
                    count += 1
    # the longest for each key and start, then by start, end and key name
    found = found[:count]
    order = np.argsort(found[:, 1] * n_keys + found[:, 0])
    keep = np.zeros(count, np.bool_)
    for r in range(count):
        row = order[r]
        if r + 1 < count:
            nxt = order[r + 1]
            if found[nxt, 0] == found[row, 0] and found[nxt, 1] == found[row, 1]:
                found[nxt, 2] = max(found[nxt, 2], found[row, 2])
                continue
        keep[row] = True
    found = found[keep]
    rank = np.empty(found.shape[0], np.int64)
    for r in range(found.shape[0]):
        rank[r] = (found[r, 1] * (n + 1) + found[r, 2]) * n_keys + key_rank[found[r, 0]]
    found = found[np.argsort(rank)]
    return found[:, 0].copy(), found[:, 1].copy(), found[:, 2].copy()


@njit(cache=True)
def find_matches(pt, key_rank, dense, mat):
    """(keys, starts, ends) of one Doc's matches, sorted by start, end and key name."""
    return _find(pt, key_rank, dense, mat, np.empty((64, 2), np.int64))


# -- a Doc's cue words ------------------------------------------------------------------------


@njit(cache=True)
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


@njit(cache=True)
def _push(lists, counts, which, i):
    if counts[which] == 0 or lists[which, counts[which] - 1] != i:
        lists[which, counts[which]] = i
        counts[which] += 1


@njit(cache=True)
def _mark(lower, cls, sent, tables, lengths, lists, counts):
    """One pass over a Doc: where its sentences start, and where each kind of cue stands."""
    n = lower.shape[0]
    counts[:] = 0
    for i in range(n):
        if sent[i]:
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


@njit(cache=True)
def _last_upto(lists, counts, which, i):
    """The last position of a list at or before i, else -1."""
    k = np.searchsorted(lists[which, : counts[which]], i, side="right")
    return lists[which, k - 1] if k else -1


@njit(cache=True)
def _first_from(lists, counts, which, i, default):
    """The first position of a list at or after i, else ``default``."""
    k = np.searchsorted(lists[which, : counts[which]], i)
    return lists[which, k] if k < counts[which] else default


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def code_batch(pt, ct, tables, lengths, negation, mat, dense, cls, sent, offsets, fallback):
    """Code every Doc of a batch (rows ``offsets[d]:offsets[d + 1]`` of the token matrix).

    ``ct``: per key its code, whether it is a near miss (exclude pattern) and its rank by name;
    per code whether it is a barrier, whether a prerequisite, and its paired barrier (or -1).
    ``fallback``: (doc, key, start, end) rows of matches found by spaCy's own Matcher.

    Returns flat arrays with pointers: per Doc its codes (code, distinct keys, whether any match
    was plain) in the order first found; per code its evidence (token start, end); per evidence
    its reasons (key, context, cue start, cue end), in order, without repeats; per Doc the codes
    it mentions only as absent (``denied``).
    """
    key_code, key_exclude, key_rank, barrier, prerequisite, paired = ct
    docs = offsets.shape[0] - 1
    n_keys = key_rank.shape[0]
    n_codes = barrier.shape[0]
    longest = 0
    for d in range(docs):
        longest = max(longest, offsets[d + 1] - offsets[d])
    stack = np.empty((64, 2), np.int64)
    lists = np.empty((LISTS, longest + 1), np.int64)
    counts = np.zeros(LISTS, np.int64)
    order = np.full(n_codes, -1, np.int64)  # a code's place among this Doc's codes
    denied = np.zeros(n_codes, np.bool_)
    key_seen = np.full(n_keys, -1, np.int64)  # the last group (stamp) that counted this key
    stamp = 0

    doc_ptr, code_ptr, ev_ptr = [0], [0], [0]
    out_code, out_keys, out_plain = [0], [0], [0]
    ev_start, ev_end = [0], [0]
    r_key, r_ctx, r_cue0, r_cue1 = [0], [0], [0], [0]
    denied_ptr, denied_code = [0], [0]
    for lst in (out_code, out_keys, out_plain, ev_start, ev_end, r_key, r_ctx, r_cue0, r_cue1):
        lst.pop()
    denied_code.pop()

    f = 0
    for d in range(docs):
        lo, hi = offsets[d], offsets[d + 1]
        n = hi - lo
        m_dense, m_mat = dense[lo:hi], mat[lo:hi]
        keys, starts, ends = _find(pt, key_rank, m_dense, m_mat, stack)
        while f < fallback.shape[0] and fallback[f, 0] < d:
            f += 1
        g = f
        while g < fallback.shape[0] and fallback[g, 0] == d:
            g += 1
        if g > f:  # add the matches of spaCy's own Matcher, and sort again
            keys = np.concatenate((keys, fallback[f:g, 1]))
            starts = np.concatenate((starts, fallback[f:g, 2]))
            ends = np.concatenate((ends, fallback[f:g, 3]))
            f = g
            rank = np.empty(keys.shape[0], np.int64)
            for j in range(keys.shape[0]):
                rank[j] = (starts[j] * (n + 1) + ends[j]) * n_keys + key_rank[keys[j]]
            perm = np.argsort(rank, kind="mergesort")
            keys, starts, ends = keys[perm], starts[perm], ends[perm]

        # near misses: the token ranges each code's exclude patterns cover
        x_code, x_start, x_end = [0], [0], [0]
        x_code.pop()
        x_start.pop()
        x_end.pop()
        include = 0
        for j in range(keys.shape[0]):
            if key_exclude[keys[j]]:
                x_code.append(key_code[keys[j]])
                x_start.append(starts[j])
                x_end.append(ends[j])
            else:
                include += 1

        # each match, in order: its context, the code it counts for, its phrase
        t_code, t_key, t_start, t_end, t_ctx, t_cue0, t_cue1, t_flip = (
            [0],
            [0],
            [0],
            [0],
            [0],
            [0],
            [0],
            [0],
        )
        for lst in (t_code, t_key, t_start, t_end, t_ctx, t_cue0, t_cue1, t_flip):
            lst.pop()
        found = [0]
        found.pop()
        denied_here = [0]
        denied_here.pop()
        if include:
            lower = m_mat[:, C_LOWER]
            m_cls = cls[lo:hi]
            _mark(lower, m_cls, sent[lo:hi], tables, lengths, lists, counts)
            for j in range(keys.shape[0]):
                key = keys[j]
                if key_exclude[key]:
                    continue
                code = key_code[key]
                start, end = starts[j], ends[j]
                near_miss = False
                for x in range(len(x_code)):
                    if x_code[x] == code and x_start[x] < end and start < x_end[x]:
                        near_miss = True
                        break
                if near_miss:
                    continue
                ctx, cue0, cue1 = PLAIN, -1, -1
                if negation:
                    ctx, cue0, cue1 = _context(
                        lower, m_cls, lists, counts, tables, lengths, start, end, barrier[code]
                    )
                target, flip = code, 0
                if ctx != PLAIN:
                    if not denied[code]:
                        denied[code] = True
                        denied_here.append(code)
                    if not prerequisite[code] or paired[code] < 0:
                        continue  # a bare denial is never the barrier
                    target, flip = paired[code], 1
                if order[target] < 0:
                    order[target] = len(found)
                    found.append(target)
                t_code.append(target)
                t_key.append(key)
                t_start.append(start)
                t_end.append(_phrase_end(m_mat, lists, counts, start, end))
                t_ctx.append(ctx)
                t_cue0.append(cue0)
                t_cue1.append(cue1)
                t_flip.append(flip)

        # per code, in the order found: its keys, and its phrases merged where they overlap
        rows = len(t_code)
        if rows:
            span = np.empty(rows, np.int64)
            group = np.empty(rows, np.int64)
            for r in range(rows):
                group[r] = order[t_code[r]]
                span[r] = (group[r] * (n + 1) + t_start[r]) * (n + 1) + t_end[r]
            perm = np.argsort(span, kind="mergesort")
            r = 0
            while r < rows:
                g = group[perm[r]]
                code = found[g]
                distinct, plain = 0, 0
                open_end = -1
                first_reason = len(r_key)
                while r < rows and group[perm[r]] == g:
                    row = perm[r]
                    key = t_key[row]
                    if key_seen[key] != stamp:
                        key_seen[key] = stamp
                        distinct += 1
                    if not t_flip[row]:
                        plain = 1
                    if open_end >= 0 and t_start[row] < open_end:
                        open_end = max(open_end, t_end[row])
                        ev_end[len(ev_end) - 1] = open_end
                    else:
                        if open_end >= 0:
                            ev_ptr.append(len(r_key))
                        ev_start.append(t_start[row])
                        ev_end.append(t_end[row])
                        open_end = t_end[row]
                        first_reason = len(r_key)
                    repeat = False
                    for q in range(first_reason, len(r_key)):
                        if (
                            r_key[q] == key
                            and r_ctx[q] == t_ctx[row]
                            and r_cue0[q] == t_cue0[row]
                            and r_cue1[q] == t_cue1[row]
                        ):
                            repeat = True
                            break
                    if not repeat:
                        r_key.append(key)
                        r_ctx.append(t_ctx[row])
                        r_cue0.append(t_cue0[row])
                        r_cue1.append(t_cue1[row])
                    r += 1
                ev_ptr.append(len(r_key))
                out_code.append(code)
                out_keys.append(distinct)
                out_plain.append(plain)
                code_ptr.append(len(ev_start))
                stamp += 1
        for code in denied_here:
            denied[code] = False
            if order[code] < 0:  # only absent, never a code of this Doc
                denied_code.append(code)
        for code in found:
            order[code] = -1
        denied_ptr.append(len(denied_code))
        doc_ptr.append(len(out_code))

    return (
        np.array(doc_ptr, np.int64),
        np.array(out_code, np.int64),
        np.array(out_keys, np.int64),
        np.array(out_plain, np.int64),
        np.array(code_ptr, np.int64),
        np.array(ev_start, np.int64),
        np.array(ev_end, np.int64),
        np.array(ev_ptr, np.int64),
        np.array(r_key, np.int64),
        np.array(r_ctx, np.int64),
        np.array(r_cue0, np.int64),
        np.array(r_cue1, np.int64),
        np.array(denied_ptr, np.int64),
        np.array(denied_code, np.int64),
    )


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

    def classes(self, lower: np.ndarray) -> np.ndarray:
        """Each token's class bits, from its lower-case word id."""
        return lookup(self.words, self.bits, lower, 0)


def lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, missing: int) -> np.ndarray:
    """``values`` at each of ``wanted``'s positions in the sorted ``keys``, else ``missing``."""
    if not len(keys):
        return np.full(len(wanted), missing, dtype=np.int64)
    at = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[at] == wanted, values[at], missing)


@lru_cache(maxsize=1)
def cue_words() -> CueWords:
    """The cue word arrays, built once per process."""
    return CueWords()
