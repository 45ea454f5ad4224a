"""Every kind of bad input: a one-line error naming the file and line or field, exit 1, and
the store exactly as it was."""

from __future__ import annotations

import pytest

BAD_FILES = [
    # (arguments after `ingest`, text that must be in the one-line error)
    (["bad/notes.pdf"], "notes.pdf: unknown file type '.pdf'"),
    (["bad/latin1.txt"], "latin1.txt:3: byte 0xe9 at offset 31 is not valid UTF-8"),
    (["bad/empty.txt"], "empty.txt: file is empty"),
    (["bad/blank.txt"], "blank.txt: file is empty"),
    (["bad/truncated.docx"], "truncated.docx: not a readable .docx file"),
    (["bad/no-text-column.csv"], "no-text-column.csv:1: no response column found"),
    (
        ["good/responses.csv", "--text-column", "answer"],
        "responses.csv:1: --text-column: no column 'answer'",
    ),
    (
        ["good/responses.csv", "--id-column", "respondent"],
        "responses.csv:1: --id-column: no column 'respondent'",
    ),
    (["bad/bad-front-matter.txt"], "bad-front-matter.txt:2: front matter is not valid YAML"),
    (["bad/bad-tier.txt"], "bad-tier.txt:3: tier: tier 'senior' is not one of"),
    (["bad/broken.vtt"], "broken.vtt:3: malformed cue timing"),
    (
        ["good", "--manifest", "bad/manifest-missing-file.yaml"],
        "manifest-missing-file.yaml:4: documents[1].file: file '../good/nowhere.txt' does not exist",
    ),
    (
        ["bad/manifest-unknown-field.yaml"],
        "manifest-unknown-field.yaml:4: documents[0].particpant: unknown field",
    ),
    (
        ["good", "--manifest", "bad/manifest-two-sites.yaml"],
        "manifest-two-sites.yaml:5: participant: participant 'HOL-90' is at site 'Saltmere'",
    ),
    (
        ["good", "--manifest", "bad/manifest-bad.csv"],
        "manifest-bad.csv:3: tier: tier 'middle' is not one of",
    ),
    (["nowhere.txt"], "nowhere.txt: no such file or folder"),
]


@pytest.mark.parametrize(("args", "message"), BAD_FILES, ids=[a[0] for a, _ in BAD_FILES])
def test_bad_input_is_one_line_exit_1_store_unchanged(qc, data, monkeypatch, args, message):
    monkeypatch.chdir(data)
    # something already in the store, so "unchanged" means more than "still empty"
    assert qc("ingest", "good/hol-interview.txt").exit_code == 0
    before = qc.dump()
    result = qc("ingest", *args)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert qc.dump() == before


def test_one_bad_file_in_a_folder_writes_nothing(qc, good_copy, data):
    (good_copy / "zz-latin1.txt").write_bytes((data / "bad" / "latin1.txt").read_bytes())
    (good_copy / "manifest.yaml").unlink()
    before = qc.dump()
    result = qc("ingest", good_copy, "--default-site", "Hollinsford")
    assert result.exit_code == 1
    assert "zz-latin1.txt:3" in result.stderr
    assert qc.dump() == before


def test_same_pseudonym_at_another_site_in_the_store(qc, tmp_path):
    a = tmp_path / "a.txt"
    a.write_text("---\nsite: Brannock\nparticipant: P1\n---\nInterviewer: Hi\nP1: Hello.\n")
    b = tmp_path / "b.txt"
    b.write_text("---\nsite: Saltmere\nparticipant: P1\n---\nInterviewer: Hi\nP1: Morning.\n")
    assert qc("ingest", a).exit_code == 0
    before = qc.dump()
    result = qc("ingest", b)
    assert result.exit_code == 1
    assert "b.txt: participant: participant 'P1' is at site 'Saltmere'" in result.stderr
    assert qc.dump() == before


def test_withdrawn_consent_is_refused(qc, data, monkeypatch):
    monkeypatch.chdir(data)
    before = qc.dump()
    result = qc("ingest", "good", "--manifest", "bad/manifest-withdrawn.csv")
    assert result.exit_code == 1
    assert "consent withdrawn" in result.stderr
    assert qc.dump() == before


def test_withdrawn_file_among_others_is_skipped(qc, good_copy):
    manifest = good_copy / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    participant: SAL-90\n", "    participant: SAL-90\n    consent: withdrawn\n"
        )
    )
    result = qc("ingest", good_copy)
    assert result.exit_code == 0, result.output
    assert "Refused: focus-group.md: consent withdrawn" in result.stderr
    listing = qc("documents", "list").output
    assert "focus-group.md" not in listing
    assert "hol-interview.txt" in listing


def test_missing_project_gets_a_hint(tmp_path):
    from tests.conftest import Qualcode

    result = Qualcode(tmp_path / "none.db")("status")
    assert result.exit_code == 3
    assert "init' (or name another with --project)" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_empty_folder_is_an_empty_corpus(qc, tmp_path):
    (tmp_path / "empty").mkdir()
    result = qc("ingest", tmp_path / "empty")
    assert result.exit_code == 1
    assert "no transcripts found" in result.stderr


def test_csv_manifest_and_defaults(qc, tmp_path, data):
    (tmp_path / "a.txt").write_text("Interviewer: Hi\nP1: The pool works.\n")
    (tmp_path / "m.csv").write_text("file,site,participant,tier\na.txt,Brannock,BRA-77,frontline\n")
    assert qc("ingest", tmp_path, "--manifest", tmp_path / "m.csv").exit_code == 0
    (tmp_path / "b.txt").write_text("Interviewer: Hi\nP2: We never meet.\n")
    (tmp_path / "m.yaml").write_text(
        "defaults: {site: Saltmere, tier: user}\ndocuments:\n  - file: b.txt\n    participant: SAL-77\n"
    )
    assert qc("ingest", tmp_path / "m.yaml").exit_code == 0
    rows = [line.split() for line in qc("documents", "list").output.splitlines()[2:]]
    assert [(r[0], r[1], r[2], r[3], r[-1]) for r in rows] == [
        ("a.txt", "Brannock", "BRA-77", "frontline", "2"),
        ("b.txt", "Saltmere", "SAL-77", "user", "2"),
    ]
