"""The rule coder on long unpunctuated turns, as automatic transcription gives them: every match
is still coded and its negation, contrast or wish still applies, however long the turn."""

from __future__ import annotations

import pytest

from qualcode.codebook import load_codebook
from qualcode.coding.rules import RuleCoder

# No full stop anywhere; "and" opens each clause, as in speech.
FILLER = "and then we met the team on tuesday to talk it through with the manager "


@pytest.fixture(scope="module")
def rules(data):
    return RuleCoder(load_codebook(data / "codebooks" / "good.yaml")).fit()


def turn(*phrases: str, filler: int = 300) -> str:
    return (FILLER * filler).join(["", *phrases, ""]).strip()


def test_filler_codes_nothing(rules):
    assert list(rules.predict([turn("", filler=100)])[0]) == []


def test_negations_apply_deep_in_a_long_turn(rules):
    text = turn("nobody here shunts costs onto anyone ", "we never pooled budgets ")
    assert len(text.split()) > 9_000
    assert "." not in text
    (assignment,) = rules.predict([text])[0]
    # the denied barrier is dropped; the denied prerequisite is its barrier
    assert assignment.code == "financial.budget_guarding"
    (evidence,) = assignment.evidence
    assert text[evidence.start : evidence.end].startswith("pooled budgets")
    assert evidence.start == text.index("pooled budgets")
    assert "its prerequisite Pooled budget (financial.pooled_budget)" in evidence.why
    assert "negated by" in evidence.why
    assert rules.predict([text])[0].denied == {"financial.pooled_budget"}
    [denial] = rules.predict([turn("nobody here shunts costs onto anyone ")])
    assert list(denial) == []
    assert denial.denied == {"financial.budget_guarding"}


def test_a_long_turn_codes_as_its_clauses_do(rules):
    phrases = (
        "the pct shunts costs onto us ",
        "nobody here shunts costs onto anyone ",
        "if only we had pooled budgets ",
        "we have pooled budgets for older people ",
    )
    text = turn(*phrases)
    [long] = rules.predict([text])
    alone = rules.predict([p.strip() for p in phrases])
    assert {a.code for a in long} == {a.code for r in alone for a in r}
    spans = {(a.code, text[e.start : e.end], e.why) for a in long for e in a.evidence}
    expected = {
        (a.code, p.strip()[e.start : e.end], e.why)
        for p, r in zip(phrases, alone, strict=True)
        for a in r
        for e in a.evidence
    }
    assert spans == expected
    # where each piece of evidence stands: the plain and the wished-for phrase, not the denial
    starts = sorted(e.start for a in long for e in a.evidence)
    assert starts == sorted(
        [text.index("shunts costs onto us"), text.index("pooled budgets "), text.rindex("pooled")]
    )
