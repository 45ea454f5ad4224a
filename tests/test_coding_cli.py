"""Coding a project from the command line: import, code, show, export, train, re-code."""

from __future__ import annotations

import csv
import io
import json

import pytest

from qualcode.coding.project import EXPORT_COLUMNS
from qualcode.store import open_project
from tests.conftest import CORPUS


@pytest.fixture
def demo(qc):
    """A project holding three demo interviews and the coders' codings of one of them."""
    for name in ("hollinsford/HOL-01.txt", "saltmere/SAL-03.txt", "eddon-vale/EDV-04.txt"):
        assert qc("ingest", CORPUS / name).exit_code == 0
    return qc


def _coding_csv(tmp_path, rows, name="c.csv"):
    path = tmp_path / name
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["document", "start", "end", "code"])
        writer.writerows(rows)
    return path


def _segment(qc, document, index=0):
    with open_project(qc.project) as store:
        return store.execute(
            'SELECT s.id, s.start, s."end", s.text FROM segments s JOIN documents d'
            " ON d.id = s.document_id WHERE d.path = ? AND s.is_interviewer = 0"
            " ORDER BY s.start LIMIT 1 OFFSET ?",
            (document, index),
        ).fetchone()


def test_import_the_demo_gold_for_one_document(demo, tmp_path):
    gold = list(csv.DictReader((CORPUS / "codings" / "gold.csv").open()))
    rows = [
        (r["document"], r["start"], r["end"], r["code"])
        for r in gold
        if r["document"] == "hollinsford/HOL-01.txt"
    ]
    path = _coding_csv(tmp_path, rows)
    result = demo("codings", "import", path, "--coder", "alice")
    assert result.exit_code == 0, result.output
    expected_codes = sum(1 for r in rows if r[3])
    assert f"Imported {expected_codes} codings by alice" in result.output
    again = demo("codings", "import", path, "--coder", "alice")
    assert f"replacing {expected_codes} earlier codings" in again.output
    with open_project(demo.project) as store:
        n = store.execute("SELECT count(*) FROM codings").fetchone()[0]
    assert n == expected_codes


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            ("hollinsford/HOL-01.txt", 0, 50, "financial.no_such_code"),
            "c.csv:3: code: unknown code 'financial.no_such_code'",
        ),
        (
            ("hollinsford/HOL-99.txt", 0, 50, "financial.pooled_budget"),
            "c.csv:3: document: no document 'hollinsford/HOL-99.txt'",
        ),
        (
            ("hollinsford/HOL-01.txt", 0, 5, "financial.pooled_budget"),
            "c.csv:3: no respondent segment at characters 0-5",
        ),
        (
            ("hollinsford/HOL-01.txt", "x", 5, "financial.pooled_budget"),
            "c.csv:3: start and end must be whole numbers",
        ),
    ],
)
def test_bad_import_names_the_line_and_imports_nothing(demo, tmp_path, row, message):
    segment = _segment(demo, "hollinsford/HOL-01.txt")
    good = ("hollinsford/HOL-01.txt", segment["start"], segment["end"], "financial.pooled_budget")
    path = _coding_csv(tmp_path, [good, row])
    before = demo.dump()
    result = demo("codings", "import", path, "--coder", "alice")
    assert result.exit_code == 1
    assert message in result.stderr
    assert demo.dump() == before


def test_code_with_rules_writes_a_run_with_evidence(demo):
    result = demo("code", "--kind", "rules")
    assert result.exit_code == 0, result.output
    assert "rules coded" in result.output
    with open_project(demo.project) as store:
        rows = store.execute(
            "SELECT c.confidence, c.evidence, c.run_id, s.text, s.is_interviewer FROM codings c"
            " JOIN segments s ON s.id = c.segment_id"
        ).fetchall()
        run = store.execute("SELECT * FROM runs WHERE command = 'code'").fetchone()
    assert rows
    assert not any(r["is_interviewer"] for r in rows)
    assert {r["run_id"] for r in rows} == {run["id"]}
    assert run["codebook_hash"]
    assert json.loads(run["parameters"])["negation"] is True
    for r in rows:
        assert 0 < r["confidence"] < 1
        for e in json.loads(r["evidence"]):
            assert r["text"][e["start"] : e["end"]]
            assert ' rule "' in e["why"]  # the code and its rule, as words
            assert "{" not in e["why"]  # never the pattern's JSON


def test_show_and_export(demo, tmp_path):
    assert demo("code", "--kind", "rules").exit_code == 0
    exported = demo("codings", "export", "--format", "csv")
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["coder"] == "rules"
    assert json.loads(first["evidence"])
    shown = demo("codings", "show", first["segment_id"])
    assert shown.exit_code == 0
    assert f"Segment {first['segment_id']}: {first['document']}" in shown.output
    assert "[[" in shown.output
    assert "]]" in shown.output
    assert first["code"] in shown.output
    out = tmp_path / "c.jsonl"
    assert (
        demo("codings", "export", "--format", "jsonl", "--coder", "rules", "-o", out).exit_code == 0
    )
    record = json.loads(out.read_text().splitlines()[0])
    assert list(record) == list(EXPORT_COLUMNS)
    missing = demo("codings", "show", "999999")
    assert missing.exit_code == 1
    assert "no segment 999999" in missing.stderr


def test_recoding_with_an_edited_codebook_keeps_old_runs(demo, tmp_path):
    from qualcode.codebook import default_codebook_path

    assert demo("code", "--kind", "rules").exit_code == 0
    edited = tmp_path / "edited.yaml"
    text = default_codebook_path().read_text()
    edited.write_text(text.replace('version: "1.0.0"', 'version: "1.0.1"'))
    assert demo("code", "--kind", "rules", "--codebook", edited).exit_code == 0
    with open_project(demo.project) as store:
        books = store.execute("SELECT count(*) FROM codebooks").fetchone()[0]
        runs = store.execute("SELECT DISTINCT run_id FROM codings").fetchall()
    assert books == 2
    assert len(runs) == 2
    latest = demo("codings", "export").output
    assert len({row["run"] for row in csv.DictReader(io.StringIO(latest))}) == 1
    everything = demo("codings", "export", "--all-runs").output
    assert len({row["run"] for row in csv.DictReader(io.StringIO(everything))}) == 2


def test_train_reports_cross_validated_scores(qc, tmp_path):
    for site in ("hollinsford", "saltmere", "eddon-vale", "brannock"):
        assert qc("ingest", CORPUS / site).exit_code == 0
    assert (
        qc("codings", "import", CORPUS / "codings" / "coder-a.csv", "--coder", "alice").exit_code
        == 1
    )  # survey not ingested
    gold = [
        r
        for r in csv.DictReader((CORPUS / "codings" / "coder-a.csv").open())
        if "#" not in r["document"]
    ]
    path = _coding_csv(tmp_path, [(r["document"], r["start"], r["end"], r["code"]) for r in gold])
    assert qc("codings", "import", path, "--coder", "alice").exit_code == 0
    result = qc("train", "--from", "alice", "--kind", "model", "--folds", "3")
    assert result.exit_code == 0, result.output
    assert "3-fold cross-validation grouped by document" in result.output
    assert "financial" in result.output
    assert "kappa" in result.output
    with open_project(qc.project) as store:
        levels = {r[0] for r in store.execute("SELECT DISTINCT level FROM evaluations")}
    assert levels == {"code", "family", "overall"}
    coded = qc("code", "--kind", "model")
    assert "Trained on coder alice in the project." in coded.output
    # the shipped coder's measured figures are not claimed for a project's own coder
    assert "expected kappa" not in coded.output
    # The audit of that run against alice is in-sample: computed from the documents and
    # coders the run recorded, not guessed from names.
    audit = json.loads(qc("agree", "--coders", "alice,model", "--format", "json").output)
    [entry] = audit["in_sample"]
    assert entry["training_coders"] == ["alice"]
    assert entry["same_coder"] == ["alice"]
    assert entry["segments"] == entry["of_segments"] == audit["n_segments"]
    assert "In-sample: model" in qc("agree", "--coders", "alice,model").output
    page = qc("agree", "--coders", "alice,model", "--format", "html").output
    assert '<p class="meta in-sample">In-sample: model' in page
    # A rule run trained on nothing is never in-sample.
    assert qc("code", "--kind", "rules").exit_code == 0
    rules = json.loads(qc("agree", "--coders", "alice,rules", "--format", "json").output)
    assert rules["in_sample"] == []


def test_codings_export_filters_by_site(qc, data, tmp_path):
    assert (
        qc("ingest", data / "good" / "hol-interview.txt", "--default-site", "Hollinsford").exit_code
        == 0
    )
    assert (
        qc("ingest", CORPUS / "saltmere" / "SAL-01.txt", "--default-site", "Saltmere").exit_code
        == 0
    )
    assert qc("code", "--kind", "rules").exit_code == 0

    def rows(*site):
        return list(csv.DictReader(io.StringIO(qc("codings", "export", *site).output)))

    everything, hollinsford, saltmere = (
        rows(),
        rows("--site", "Hollinsford"),
        rows("--site", "Saltmere"),
    )
    assert hollinsford
    assert saltmere
    assert {r["site"] for r in hollinsford} == {"Hollinsford"}
    assert {r["site"] for r in saltmere} == {"Saltmere"}
    assert len(hollinsford) + len(saltmere) == len(everything)
    missing = qc("codings", "export", "--site", "Atlantis")
    assert missing.exit_code == 1
    assert "no site 'Atlantis' in the project (sites: Hollinsford, Saltmere)" in missing.output
