"""`qualcode pseudonymise` on a demo interview with planted identifiers: they are gone from
the project and the report, and every offset and coding moved with the text."""

from __future__ import annotations

import json

from qualcode.coding.pseudonymise import OffsetShift, apply
from qualcode.store import open_project
from tests.conftest import CORPUS

PLANTED = {
    "Jo Smithson": "jo.smithson@hollinsford.gov.uk",
    "phone": "07700 900123",
    "postcode": "HF4 7QT",
}


def _planted(tmp_path):
    original = (CORPUS / "hollinsford" / "HOL-01.txt").read_text(encoding="utf-8")
    marker = "Interviewer: Thank you for seeing me."
    planted = original.replace(
        marker,
        marker + " Jo Smithson said to ring her on 07700 900123 or write to "
        "jo.smithson@hollinsford.gov.uk at HF4 7QT.",
        1,
    )
    answer = planted.index("\nHOL-01: ") + len("\nHOL-01: ")
    planted = planted[:answer] + "Jo Smithson's team and I " + planted[answer:]
    path = tmp_path / "HOL-01.txt"
    path.write_text(planted, encoding="utf-8")
    return path


def _segments(project):
    with open_project(project) as store:
        return store.execute(
            'SELECT s.id, s.start, s."end", s.text, d.text AS doc FROM segments s'
            " JOIN documents d ON d.id = s.document_id ORDER BY s.id"
        ).fetchall()


def test_identifiers_are_replaced_and_offsets_follow(qc, tmp_path):
    path = _planted(tmp_path)
    assert qc("ingest", path, "--default-site", "Hollinsford").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    with open_project(qc.project) as store:
        span_texts = [
            r[0][r[1] : r[2]]
            for r in store.execute(
                'SELECT d.text, s.start, s."end" FROM segments s JOIN documents d'
                " ON d.id = s.document_id WHERE s.text NOT LIKE '%Smithson%'"
            )
        ]
        before_codings = store.execute("SELECT count(*) FROM codings").fetchone()[0]
        evidence_before = [
            (r[0][e["start"] : e["end"]])
            for r in store.execute(
                "SELECT s.text, c.evidence FROM codings c JOIN segments s ON s.id = c.segment_id"
                " WHERE s.text NOT LIKE '%Smithson%'"
            )
            for e in json.loads(r[1])
        ]
    names = tmp_path / "names.csv"
    names.write_text("Jo Smithson,Participant A\nJo\n", encoding="utf-8")
    dry = qc("pseudonymise", "--names", names, "--dry-run")
    assert "Would replace" in dry.output
    assert "Smithson" in qc.dump()
    result = qc("pseudonymise", "--names", names)
    assert result.exit_code == 0, result.output
    assert "1 EMAIL" in result.output
    assert "1 PHONE" in result.output
    assert "1 POSTCODE" in result.output
    dump = qc.dump()
    for value in ("Smithson", "07700 900123", "HF4 7QT", "hollinsford.gov.uk"):
        assert value not in dump
    assert "Participant A''s team" in dump  # (the SQL dump doubles quotes)
    assert "[EMAIL-1]" in dump
    for s in _segments(qc.project):
        assert s["doc"][s["start"] : s["end"]] == s["text"]
    assert qc("check").exit_code == 0
    with open_project(qc.project) as store:
        assert store.execute("SELECT count(*) FROM codings").fetchone()[0] == before_codings
        after = [
            r[0][r[1] : r[2]]
            for r in store.execute(
                'SELECT d.text, s.start, s."end" FROM segments s JOIN documents d'
                " ON d.id = s.document_id WHERE s.text NOT LIKE '%Participant A%'"
                " AND s.text NOT LIKE '%[EMAIL-1]%'"
            )
        ]
        evidence_after = [
            (r[0][e["start"] : e["end"]])
            for r in store.execute(
                "SELECT s.text, c.evidence FROM codings c JOIN segments s ON s.id = c.segment_id"
                " WHERE s.text NOT LIKE '%Participant A%' AND s.text NOT LIKE '%[EMAIL-1]%'"
            )
            for e in json.loads(r[1])
        ]
    assert sorted(after) == sorted(span_texts)  # untouched turns read exactly as before
    assert sorted(evidence_after) == sorted(evidence_before)
    out = tmp_path / "report"
    assert qc("report", "--out-dir", out).exit_code == 0
    shown = "\n".join(p.read_text(encoding="utf-8") for p in out.glob("*.*") if p.suffix != ".docx")
    assert "Smithson" not in shown


def test_offset_shift_is_consistent_with_the_new_text():
    text = "ab Jo Smithson cd Jo Smithson ef"
    found = [(3, 14, "[P]"), (18, 29, "Participant A")]
    new = apply(text, found)
    shift = OffsetShift(found)
    assert new == "ab [P] cd Participant A ef"
    assert new[shift(0) : shift(2, is_end=True)] == "ab"
    assert new[shift(15) : shift(17, is_end=True)] == "cd"
    assert new[shift(30) : shift(32, is_end=True)] == "ef"
    assert new[shift(3) : shift(14, is_end=True)] == "[P]"
    assert new[shift(5) : shift(9, is_end=True)] == "[P]"  # inside a name: the whole pseudonym
