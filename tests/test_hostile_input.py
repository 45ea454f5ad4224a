"""Hostile and broken input (issue 14): each case found by trying, with a regression test."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.ingest.turns import segment_text

# Characters the speaker-label pattern cares about, to build texts that could make it backtrack.
PIECES = [
    " " * 8,
    " ",
    "\t",
    "\n",
    ":",
    "(",
    ")",
    "[",
    "]",
    "**",
    "#",
    "1",
    "a",
    "ab",
    ".",
    "’",
    "-",
]
TRICKY = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


def test_lines_that_begin_with_long_runs_of_spaces_segment_at_once(qc, tmp_path):
    # Found: 20 leading spaces took 10 s, 28 took 67 s, 32 over 300 s (a regex for "only
    # headings before the first label" backtracked exponentially).
    text = (
        " " * 40 + "we met every month and nothing moved\n"
    ) * 30 + "Interviewer: why?\nP1: money\n"
    (tmp_path / "spaces.txt").write_text(text, encoding="utf-8")
    result = qc("ingest", tmp_path / "spaces.txt", "--site", "x")
    assert result.exit_code == 0, result.output
    segments, _ = segment_text(text)
    assert segments[0].text.startswith("we met every month")


@settings(max_examples=400, deadline=250)
@given(TRICKY)
@example(" " * 32 + "a\n")  # the case that was found
def test_turn_parsing_never_takes_long_on_tricky_text(text):
    # Hypothesis fails an example that runs past the deadline: a bound on backtracking, not a
    # benchmark. Texts are short, so anything super-linear shows as seconds, not milliseconds.
    segment_text(text * 3)
