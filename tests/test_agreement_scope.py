"""What a coder examined, every span they made, and intervals that stay honest for rare codes.

The reference case is NVivo's published coding-comparison example: one source of 1,000 equal
units, coder A codes units 1-150 with a code and coder B units 101-200. NVivo reports 85%
agreement and Cohen's kappa 0.318, because each coder examined the whole source.
"""

from __future__ import annotations

import json

import pytest
from sklearn.metrics import cohen_kappa_score

CODE = "financial.budget_constraints"
LINE = "P: this turn says the same words as every other turn.\n"  # every turn equally long


@pytest.fixture
def thousand(qc, tmp_path):
    """A 1,000-turn transcript, ingested; ``qc.line(i)`` is where turn i (from 0) starts."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "long.txt").write_text(LINE * 1000, encoding="utf-8")
    assert qc("ingest", folder / "long.txt", "--default-site", "x").exit_code == 0
    qc.line = lambda i: i * len(LINE)
    qc.tmp = tmp_path
    return qc


def _csv(qc, name: str, rows: list[tuple[int, int, str]]):
    path = qc.tmp / f"{name}.csv"
    body = "".join(f"long.txt,{s},{e},{c}\n" for s, e, c in rows)
    path.write_text("document,start,end,code\n" + body, encoding="utf-8")
    result = qc("codings", "import", path, "--coder", name)
    assert result.exit_code == 0, result.output
    return result


def _agree(qc, *args: str) -> dict:
    result = qc("agree", "--coders", "A,B", "--codes", CODE, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _row(report: dict) -> dict:
    return next(r for r in report["codes"] if r["code"] == CODE)


def test_nvivo_example_at_both_units(thousand):
    qc = thousand
    _csv(qc, "A", [(qc.line(0), qc.line(150), CODE)])
    _csv(qc, "B", [(qc.line(100), qc.line(200), CODE)])
    for unit in ("segment", "character"):
        report = _agree(qc, "--unit", unit)
        row = _row(report)
        assert row["percent_agreement"] == pytest.approx(0.85, abs=1e-4), unit
        assert row["cohen_kappa"] == pytest.approx(0.318, abs=5e-4), unit
        assert report["scope"]["name"] == "document"
    segment = _row(_agree(qc))
    assert (segment["both"], segment["a_only"], segment["b_only"], segment["neither"]) == (
        50,
        100,
        50,
        800,
    )
    assert _row(_agree(qc, "--unit", "character"))["n_units"] == len(LINE) * 1000


def test_listed_scope_counts_only_the_segments_listed(thousand):
    qc = thousand
    _csv(qc, "A", [(qc.line(0), qc.line(150), CODE)])
    _csv(qc, "B", [(qc.line(100), qc.line(200), CODE)])
    report = _agree(qc, "--scope", "listed")
    assert report["n_segments"] == 50  # the turns both listed
    assert report["segments_not_examined_by_all"] == 150
    assert _row(report)["percent_agreement"] == 1.0
    table = qc("agree", "--coders", "A,B", "--scope", "listed").output
    assert "Scope: listed: only the segments each coder listed" in table


def test_empty_code_rows_list_a_partial_coding(thousand):
    qc = thousand
    # A examined turns 0-9 only: one coded, nine looked at with nothing to code.
    _csv(
        qc,
        "A",
        [(qc.line(0), qc.line(1), CODE)] + [(qc.line(i), qc.line(i + 1), "") for i in range(1, 10)],
    )
    _csv(qc, "B", [(qc.line(i), qc.line(i + 1), CODE) for i in range(2)])
    row = _row(_agree(qc, "--scope", "listed"))
    assert (row["n_units"], row["both"], row["b_only"], row["neither"]) == (2, 1, 1, 0)


def test_every_span_is_kept_whatever_the_row_order(thousand):
    qc = thousand
    spans = [
        (qc.line(3) + 5, qc.line(3) + 20),
        (qc.line(3) + 30, qc.line(3) + 40),
        (qc.line(7), qc.line(9)),
    ]
    _csv(qc, "A", [(s, e, CODE) for s, e in spans])
    _csv(qc, "B", [(s, e, CODE) for s, e in reversed(spans)])
    row = _row(_agree(qc, "--unit", "character"))
    assert row["cohen_kappa"] == 1.0
    assert row["both"] == 15 + 10 + 2 * len(LINE)


def test_overlapping_spans_merge_and_a_span_may_cross_turns(thousand):
    qc = thousand
    # A: two overlapping spans of one code (merged: 10..40 of turn 5); B: one span from the
    # middle of turn 5 to the middle of turn 6.
    _csv(
        qc,
        "A",
        [(qc.line(5) + 10, qc.line(5) + 30, CODE), (qc.line(5) + 20, qc.line(5) + 40, CODE)],
    )
    half = len(LINE) // 2
    _csv(qc, "B", [(qc.line(5) + half, qc.line(6) + half + 4, CODE)])
    row = _row(_agree(qc, "--unit", "character"))
    a = [0] * (len(LINE) * 1000)
    b = [0] * len(a)
    for i in range(qc.line(5) + 10, qc.line(5) + 40):
        a[i] = 1
    for i in range(qc.line(5) + half, qc.line(6) + half + 4):
        b[i] = 1
    assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-4)
    assert row["a_only"] + row["both"] == 30
    # At the segment unit the span codes each turn it covers at least half of (the turns
    # exclude the "P: " label and the line break).
    segment = _row(_agree(qc))
    assert segment["b_only"] + segment["both"] == 2


def test_spans_outside_the_document_are_refused(thousand):
    qc = thousand
    path = qc.tmp / "bad.csv"
    path.write_text(f"document,start,end,code\nlong.txt,10,{len(LINE) * 1000 + 5},{CODE}\n")
    before = qc.dump()
    result = qc("codings", "import", path, "--coder", "A")
    assert result.exit_code == 1
    assert "bad.csv:2" in result.output
    assert "not inside" in result.output
    assert qc.dump() == before


@pytest.mark.parametrize("used", [1, 2, 3, 4, 5])
def test_rare_codes_get_no_bootstrap_interval_but_an_honest_agreement_one(thousand, used):
    qc = thousand
    rows = [(qc.line(i), qc.line(i + 1), CODE) for i in range(used)]
    _csv(qc, "A", rows)
    _csv(qc, "B", rows)
    for seed in ("0", "7"):
        row = _row(_agree(qc, "--seed", seed))
        assert row["cohen_kappa"] == 1.0
        assert row["kappa_ci"] is None
        assert row["alpha_ci"] is None
        assert "too few units to estimate" in row["undefined"]["kappa_ci"]
        low, high = row["agreement_ci"]
        assert low < 1.0
        assert high == 1.0


def test_a_code_used_often_enough_gets_a_stable_bootstrap_interval(thousand):
    qc = thousand
    _csv(qc, "A", [(qc.line(i), qc.line(i + 1), CODE) for i in range(0, 60)])
    _csv(qc, "B", [(qc.line(i), qc.line(i + 1), CODE) for i in range(10, 70)])
    lows = {seed: _row(_agree(qc, "--seed", seed))["kappa_ci"][0] for seed in ("0", "1", "2")}
    assert max(lows.values()) - min(lows.values()) < 0.05
    row = _row(_agree(qc))
    assert row["kappa_ci"][0] < row["cohen_kappa"] < row["kappa_ci"][1]
