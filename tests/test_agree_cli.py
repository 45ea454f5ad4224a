"""`qualcode agree` on real double-coded demo interviews, checked against an independent count."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from qualcode.store import open_project
from tests.conftest import CORPUS

DOCUMENTS = ("hollinsford/HOL-01.txt", "saltmere/SAL-03.txt", "eddon-vale/EDV-04.txt")


def _subset(tmp_path, coder):
    """The coder's real codings of the three documents, as a CSV to import."""
    rows = [
        r
        for r in csv.DictReader((CORPUS / "codings" / f"{coder}.csv").open(encoding="utf-8"))
        if r["document"] in DOCUMENTS
    ]
    path = tmp_path / f"{coder}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["document", "start", "end", "code"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path, rows


@pytest.fixture
def coded(qc, tmp_path):
    for name in DOCUMENTS:
        assert qc("ingest", CORPUS / name).exit_code == 0
    rows = {}
    for coder in ("coder-a", "coder-b", "gold"):
        path, rows[coder] = _subset(tmp_path, coder)
        result = qc("codings", "import", path, "--coder", coder)
        assert result.exit_code == 0, result.output
    qc.rows = rows
    return qc


def _by_segment(rows):
    out: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        out.setdefault((r["document"], r["start"]), set())
        if r["code"]:
            out[(r["document"], r["start"])].add(r["code"])
    return out


def test_json_figures_match_an_independent_count(coded):
    result = coded("agree", "--coders", "coder-a,coder-b", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.output
    report = json.loads(result.output)
    assert [c["name"] for c in report["coders"]] == ["coder-a", "coder-b"]
    a, b = _by_segment(coded.rows["coder-a"]), _by_segment(coded.rows["coder-b"])
    keys = sorted(a)
    assert report["n_segments"] == len(keys) == 43
    checked = 0
    for row in report["codes"]:
        assert row["both"] + row["a_only"] + row["b_only"] + row["neither"] == row["n_units"]
        va = [int(row["code"] in a[k]) for k in keys]
        vb = [int(row["code"] in b[k]) for k in keys]
        assert row["both"] == sum(x and y for x, y in zip(va, vb, strict=True))
        if len(set(va) | set(vb)) > 1:
            assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(va, vb), abs=1e-4)
            checked += 1
        else:  # nobody used it: undefined, with a reason, never NaN
            assert row["cohen_kappa"] is None
            assert "no coder used it" in row["undefined"]["cohen_kappa"]
        assert row["fleiss_kappa"] is None  # two coders: Cohen's, not Fleiss'
    assert checked >= 15
    assert set(report["overall"]) >= {"pooled", "mean"}
    for key in ("kappa_ci", "alpha_ci"):
        low, high = report["overall"]["pooled"][key]
        assert low <= report["overall"]["pooled"]["cohen_kappa"] <= high
    assert {f["family"] for f in report["families"]} == {
        "structural", "procedural", "financial", "professional", "status"
    }  # fmt: skip


def test_three_coders_get_fleiss_kappa(coded):
    report = json.loads(
        coded("agree", "--coders", "coder-a,coder-b,gold", "--format", "json").output
    )
    row = next(r for r in report["codes"] if r["both"] > 3)
    assert row["cohen_kappa"] is None
    assert row["fleiss_kappa"] is not None
    assert row["krippendorff_alpha"] == pytest.approx(row["fleiss_kappa"], abs=0.05)


def test_fail_under_gates_a_coding_round(coded):
    strict = coded(
        "agree", "--coders", "coder-a,coder-b", "--fail-under", "0.99", "--bootstrap", "0"
    )
    assert strict.exit_code == 4  # its own status: not bad input (1) or usage (2)
    assert "below 0.99" in strict.output
    lenient = coded(
        "agree", "--coders", "coder-a,coder-b", "--fail-under", "-1", "--bootstrap", "0"
    )
    assert lenient.exit_code == 0, lenient.output


def test_show_disagreements_lists_the_segments_with_text(coded):
    a, b = _by_segment(coded.rows["coder-a"]), _by_segment(coded.rows["coder-b"])
    differ = {}
    for k in a:
        for code in a[k] ^ b[k]:
            differ.setdefault(code, []).append(k)
    code, keys = max(differ.items(), key=lambda kv: len(kv[1]))
    result = coded("agree", "--coders", "coder-a,coder-b", "--show-disagreements", code)
    assert result.exit_code == 0, result.output
    assert f"Disagreements on {code}: {len(keys)} segment(s)" in result.output
    with open_project(coded.project) as store:
        text = store.execute(
            "SELECT substr(d.text, ?, 60) FROM documents d WHERE d.path = ?",
            (int(keys[0][1]) + 1, keys[0][0]),
        ).fetchone()[0]
    assert text.split("\n")[0] in result.output


def test_character_unit_reproduces_an_nvivo_style_count(coded):
    result = coded(
        "agree", "--coders", "coder-a,coder-b", "--unit", "character", "--format", "json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    with open_project(coded.project) as store:
        lengths = dict(store.execute("SELECT path, length(text) FROM documents").fetchall())
        spans = {
            (r[0], r[1]): (r[1], r[2])
            for r in store.execute(
                'SELECT d.path, s.start, s."end" FROM segments s JOIN documents d ON d.id = s.document_id'
            )
        }
    row = next(r for r in report["documents"] if r["a_only"] or r["b_only"])
    masks = []
    for coder in ("coder-a", "coder-b"):
        mask = np.zeros(lengths[row["document"]], int)
        for r in coded.rows[coder]:
            if r["document"] == row["document"] and r["code"] == row["code"]:
                start, end = spans[(r["document"], int(r["start"]))]
                mask[start:end] = 1
        masks.append(mask)
    assert row["n_units"] == lengths[row["document"]]
    assert row["kappa"] == pytest.approx(cohen_kappa_score(*masks), abs=1e-4)
    assert row["percent_agreement"] == pytest.approx(float((masks[0] == masks[1]).mean()), abs=1e-4)
    assert report["codes"][0]["kappa_ci"] is None  # characters are not independent units


def test_csv_and_html_outputs(coded, tmp_path):
    out = tmp_path / "agree.csv"
    assert (
        coded("agree", "--coders", "coder-a,coder-b", "--format", "csv", "-o", out).exit_code == 0
    )
    rows = list(csv.DictReader(out.open()))
    assert {r["level"] for r in rows} == {"code", "family", "overall"}
    page = tmp_path / "audit.html"
    result = coded(
        "agree", "--coders", "coder-a,gold", "--format", "html", "-o", page, "--fail-under", "0.8"
    )
    html = page.read_text()
    assert "Landis and Koch" in html
    assert "<script" not in html
    assert "By code, weakest first" in html
    assert "Coding counts per coder" in html
    report = json.loads(coded("agree", "--coders", "coder-a,gold", "--format", "json").output)
    weakest = min(
        (r for r in report["codes"] if r["cohen_kappa"] is not None), key=lambda r: r["cohen_kappa"]
    )
    if weakest["cohen_kappa"] < 0.8:
        assert result.exit_code == 4
        assert html.index(weakest["code"]) < html.index("Coding counts per coder")


def test_html_escapes_transcript_text(qc, tmp_path):
    doc = tmp_path / "evil.txt"
    doc.write_text(
        "Interviewer: What happened?\n\nAnn: The <script>alert('x')</script> board & the <b>trust</b> never met.\n\n"
        "Interviewer: Anything else?\n\nAnn: No.\n",
        encoding="utf-8",
    )
    assert qc("ingest", doc).exit_code == 0
    with open_project(qc.project) as store:
        seg = store.execute(
            'SELECT start, "end" FROM segments WHERE is_interviewer = 0 ORDER BY start'
        ).fetchone()
    for coder, code in (("x", "status.power_imbalance"), ("y", "")):
        path = tmp_path / f"{coder}.csv"
        path.write_text(f"document,start,end,code\nevil.txt,{seg[0]},{seg[1]},{code}\n")
        assert qc("codings", "import", path, "--coder", coder).exit_code == 0
    page = tmp_path / "a.html"
    result = qc("agree", "--coders", "x,y", "--format", "html", "-o", page)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "&lt;script&gt;alert(" in html
    assert "<script>" not in html
    assert "<b>trust</b>" not in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--coders", "coder-a"), "name two or more coders"),
        (("--coders", "coder-a,nobody"), "no coder 'nobody'"),
        (("--coders", "coder-a,coder-b", "--codes", "financial.nothing"), "unknown code or family"),
        (("--coders", "coder-a,machine"), "no machine coding"),
        (("--coders", "coder-a,coder-b", "--site", "Atlantis"), "no respondent segments"),
    ],
)
def test_bad_requests_are_one_line_errors(coded, args, message):
    result = coded("agree", *args)
    assert result.exit_code == 1
    assert message in result.output
    assert result.output.count("\n") == 1


def test_human_against_machine(coded):
    assert coded("code", "--kind", "rules").exit_code == 0
    result = coded("agree", "--coders", "gold,machine", "--codes", "financial", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["coders"][1]["kind"] == "machine"
    assert report["coders"][1]["coder"] == "rules"
    assert all(r["family"] == "financial" for r in report["codes"])
