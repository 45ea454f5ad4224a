"""`qualcode review`: coding in the terminal, saved decision by decision, resumable."""

from __future__ import annotations

import json
import re

import pytest

from qualcode.store import open_project
from tests.conftest import CORPUS


@pytest.fixture
def suggested(qc):
    assert qc("ingest", CORPUS / "hollinsford" / "HOL-01.txt").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    return qc


def _decisions(qc, coder="alice"):
    """Segment id -> codes, for every segment the coder has examined."""
    with open_project(qc.project) as store:
        examined = [
            r[0]
            for r in store.execute(
                "SELECT u.segment_id FROM coded_segments u JOIN coders k ON k.id = u.coder_id"
                " WHERE k.name = ? ORDER BY u.segment_id",
                (coder,),
            )
        ]
        out = {s: set() for s in examined}
        for seg, code in store.execute(
            "SELECT c.segment_id, x.code FROM codings c JOIN codes x ON x.id = c.code_id"
            " JOIN coders k ON k.id = c.coder_id WHERE k.name = ?",
            (coder,),
        ):
            out[seg].add(code)
    return out


def _suggestions(qc, segment_id):
    with open_project(qc.project) as store:
        return {
            r[0]
            for r in store.execute(
                "SELECT x.code FROM codings c JOIN codes x ON x.id = c.code_id"
                " JOIN coders k ON k.id = c.coder_id WHERE k.kind = 'machine' AND c.segment_id = ?",
                (segment_id,),
            )
        }


def _shown(output):
    return [int(x) for x in re.findall(r"\] segment (\d+),", output)]


def test_accept_reject_add_and_resume(suggested):
    first = suggested("review", "--coder", "alice", input="y\nn\n+ pooled budgets\nn\nq\n")
    assert first.exit_code == 0, first.output
    shown = _shown(first.output)
    decisions = _decisions(suggested)
    assert sorted(decisions) == shown[:3]
    assert decisions[shown[0]] == _suggestions(suggested, shown[0])
    assert decisions[shown[1]] == set()  # examined, nothing applies
    assert decisions[shown[2]] == {"financial.pooled_budget"}
    assert "Saved 3 decisions as alice" in first.output

    second = suggested("review", "--coder", "alice", input="q\n")
    assert _shown(second.output)[0] == shown[3]  # resumes at the first undecided segment


def test_accept_some_suggestions_by_number(suggested):
    result = suggested("review", "--coder", "alice", input="s\n1\nq\n")
    shown = _shown(result.output)
    with_suggestions = shown[1]
    with open_project(suggested.project) as store:
        top = store.execute(
            "SELECT x.code FROM codings c JOIN codes x ON x.id = c.code_id WHERE c.segment_id = ?"
            " ORDER BY c.confidence DESC LIMIT 1",
            (with_suggestions,),
        ).fetchone()
    expected = {top[0]} if top else None
    if expected is None:  # no suggestion to pick: the number is refused, nothing saved
        assert "No suggestion 1" in result.output
    else:
        assert _decisions(suggested)[with_suggestions] == expected
    assert shown[0] not in _decisions(suggested)  # skipped, not saved


def test_undo_takes_back_the_last_decision(suggested):
    result = suggested("review", "--coder", "alice", input="n\nu\ny\nq\n")
    shown = _shown(result.output)
    assert shown[2] == shown[0] != shown[1]  # shown again after the undo
    assert _decisions(suggested) == {shown[0]: _suggestions(suggested, shown[0])}


def test_a_session_cut_off_keeps_every_decision_made(suggested):
    result = suggested("review", "--coder", "alice", input="n\nn\n+ trust")  # no quit, input ends
    assert result.exit_code == 0, result.output
    assert len(_decisions(suggested)) == 2


def test_ambiguous_and_unknown_codes_are_asked_about(suggested):
    result = suggested("review", "--coder", "alice", input="+ budget\n+ zebra\nq\n")
    assert "Which one?" in result.output
    assert "financial.budget_constraints" in result.output
    assert "No code matches 'zebra'" in result.output
    assert _decisions(suggested) == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--coder", "rules"), "is a machine coder"),
        (("--coder", "alice", "--code", "financial.nothing"), "unknown code"),
    ],
)
def test_bad_review_requests(suggested, args, message):
    result = suggested("review", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_reviewed_codings_feed_the_agreement_audit(suggested):
    suggested("review", "--coder", "alice", input="y\nn\ny\nq\n")
    args = ("agree", "--coders", "alice,machine", "--format", "json", "--bootstrap", "0")
    # A reviewer who decided segments of a document examined that document (the scope NVivo,
    # ATLAS.ti and MAXQDA assume); a spot check counts only the segments decided.
    listed = json.loads(suggested(*args, "--scope", "listed").output)
    assert listed["n_segments"] == 3
    assert listed["scope"]["name"] == "listed"
    whole = json.loads(suggested(*args).output)
    assert whole["scope"]["name"] == "document"
    assert whole["n_segments"] > 3
    assert whole["documents"] == listed["documents"]


def _review(qc, *args, input="s\ns\nq\n", env=None):
    from qualcode.cli import cli

    return qc.runner.invoke(
        cli,
        ["--project", str(qc.project), "review", "--coder", "alice", *args],
        input=input,
        env=env,
    )


@pytest.mark.parametrize(
    ("args", "columns", "width"),
    [((), "60", 60), (("--width", "45"), "60", 45), (("--width", "90"), "50", 90)],
)
def test_review_wraps_to_the_terminal_or_width(suggested, args, columns, width):
    result = _review(suggested, *args, env={"COLUMNS": columns})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= width
    assert max(len(line) for line in lines) > width - 12  # the room is used, not a default


def test_review_wraps_styled_text_by_what_shows(suggested, monkeypatch):
    import click

    import qualcode.cli.review as review

    monkeypatch.setattr(review, "_color", lambda: True)
    from qualcode.cli import cli

    result = suggested.runner.invoke(
        cli,
        ["--project", str(suggested.project), "review", "--coder", "alice", "--width", "50"],
        input="s\ns\nq\n",
        color=True,
    )
    assert result.exit_code == 0, result.output
    assert "\x1b[1m" in result.output  # evidence in bold
    visible = [click.unstyle(line) for line in result.output.splitlines()]
    assert max(len(line) for line in visible) <= 50
    assert max(len(line) for line in result.output.splitlines()) > 50  # codes took no room


def test_review_shows_evidence_as_words_in_context_and_the_rule(suggested):
    result = _review(suggested, "--width", "200", input="s\ns\ns\ns\nq\n")
    evidence = [
        line.strip() for line in result.output.splitlines() if line.strip().startswith("- ")
    ]
    assert evidence
    for line in evidence:
        assert "[[" in line
        assert "\u201c" in line
        assert "{" not in line
        assert "LEMMA" not in line
        assert "pattern" not in line
        assert ' rule "' in line  # the rules coder names its rule


def test_review_shows_old_pattern_reasons_readably(suggested):
    """Reasons stored before rules were named held the pattern's JSON; review shows its term."""
    legacy = 'pattern [{"LEMMA": "pool"}, {"LEMMA": {"IN": ["budget", "fund"]}}]'
    with open_project(suggested.project) as store, store.atomic():
        for row in store.execute("SELECT id, evidence FROM codings").fetchall():
            evidence = [{**e, "why": legacy} for e in json.loads(row["evidence"])]
            store.execute(
                "UPDATE codings SET evidence = ? WHERE id = ?",
                (json.dumps(evidence), row["id"]),
            )
    result = _review(suggested, "--width", "200", input="s\ns\ns\ns\nq\n")
    assert 'rule "pool budget/fund"' in result.output
    assert "LEMMA" not in result.output


def test_readable_reasons():
    from qualcode.coding.review import readable_why

    assert readable_why("term 'not_pooled budget' (+0.42)") == (
        'model: the words "(negated) pooled budget" weigh +0.42 for this code'
    )
    old = (
        "negated ('never') prerequisite financial.pooled_budget: "
        'pattern [{"LEMMA": "pool"}, {"LEMMA": {"IN": ["budget", "fund"]}}]'
    )
    assert readable_why(old) == (
        'its prerequisite financial.pooled_budget negated by "never", rule "pool budget/fund"'
    )
    kept = "financial concept 'grant' with barrier cue 'ran out' (family score 0.71)"
    assert readable_why(kept) == kept


def test_evidence_context_stays_in_its_sentence():
    from qualcode.coding.review import in_context

    text = (
        "It was years ago. We talk about a pooled budget but what we actually have is two "
        "budgets sitting side by side. Anyway."
    )
    start = text.index("pooled")
    assert in_context(text, start, start + len("pooled budget")) == (
        "We talk about a ",
        "pooled budget",
        " but what we actually have is…",
    )
