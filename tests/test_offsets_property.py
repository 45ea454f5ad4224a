"""Property: on any generated transcript, every segment is exactly its slice of the text."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.ingest.turns import LABEL_RE, segment_text
from qualcode.textio import normalise

words = st.text(alphabet=string.ascii_letters + "éçñ’'-", min_size=1, max_size=12)
sentence = st.lists(words, min_size=1, max_size=30).map(lambda ws: " ".join(ws) + ".")
paragraph = st.lists(sentence, min_size=1, max_size=8).map(" ".join)
labels = st.sampled_from(
    ["Interviewer", "P1", "HOL-03 (joint commissioning manager)", "HOL-03", "I", "Q", "Moderator"]
)
turn = st.tuples(
    labels,
    st.lists(paragraph, min_size=1, max_size=6),
    st.sampled_from(["\n", "\n\n", "\r\n", "\n \n"]),
)


@st.composite
def transcripts(draw):
    preamble = draw(st.one_of(st.just(""), paragraph.map(lambda p: p + "\n\n")))
    body = "".join(
        f"{label}: " + sep.join(paras) + "\n\n"
        for label, paras, sep in draw(st.lists(turn, max_size=12))
    )
    return preamble + body


@settings(max_examples=200, deadline=None)
@given(transcripts())
def test_segments_are_exact_slices(raw):
    text = normalise(raw)
    segments, _ = segment_text(text, respondent="P1")
    previous_end = 0
    for seg in segments:
        assert text[seg.start : seg.end] == seg.text
        assert seg.text == seg.text.strip()
        assert seg.text
        assert seg.start >= previous_end  # in order, no overlaps
        previous_end = seg.end
    # nothing said is lost: what lies between segments is only white space and speaker labels
    bounds = [0] + [b for seg in segments for b in (seg.start, seg.end)] + [len(text)]
    for gap_start, gap_end in zip(bounds[::2], bounds[1::2], strict=True):
        gap = text[gap_start:gap_end].strip()
        assert gap == "" or LABEL_RE.fullmatch(gap + " "), repr(gap)
