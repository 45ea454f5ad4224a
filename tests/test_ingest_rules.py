"""How ingest decides what to read, under which name, with which metadata."""

from __future__ import annotations

import docx
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.store import open_project


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _docs(project):
    with open_project(project) as store:
        return {
            r["path"]: dict(r)
            for r in store.execute(
                "SELECT d.path, d.site, p.pseudonym, p.stakeholder_group, p.organisation, p.tier"
                " FROM documents d LEFT JOIN participants p ON p.id = d.participant_id"
            )
        }


def test_manifest_withdrawal_after_ingest_removes_the_document(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    manifest = good_copy / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "    participant: HOL-90\n", "    participant: HOL-90\n    consent: withdrawn\n"
        )
    )
    result = qc("ingest", good_copy)
    assert result.exit_code == 0, result.output
    assert "Removed (consent withdrawn in the manifest): hol-interview.txt" in result.output
    assert "hol-interview.txt" not in _docs(qc.project)
    assert b"Nobody planned for it" not in qc.project.read_bytes()


def test_removed_document_is_not_ingested_again(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    assert qc("documents", "remove", "--participant", "SAL-90", "--yes").exit_code == 0
    again = qc("ingest", good_copy)
    assert again.exit_code == 0
    assert "Refused: focus-group.md: removed from this project on" in again.stderr
    assert "focus-group.md" not in _docs(qc.project)
    with open_project(qc.project) as store:
        run = store.execute("SELECT * FROM runs WHERE command = 'documents remove'").fetchone()
        assert run["status"] == "finished"


def test_each_folder_uses_its_own_manifest(qc, tmp_path):
    for site, name in (("Brannock", "one"), ("Saltmere", "two")):
        _write(
            tmp_path / name / "int.txt", f"Interviewer: Hi\n{name.upper()}-1: Words from {site}.\n"
        )
        _write(
            tmp_path / name / "manifest.yaml",
            f"documents:\n  - file: int.txt\n    site: {site}\n    participant: {name.upper()}-1\n",
        )
    result = qc("ingest", tmp_path / "one", tmp_path / "two")
    assert result.exit_code == 1  # both are "int.txt": two interviews under one name
    assert "the same name as" in result.stderr
    assert qc("ingest", tmp_path / "one").exit_code == 0
    later = qc("ingest", tmp_path / "two")
    assert later.exit_code == 1
    assert "if it is another interview, give it another name" in later.stderr
    (tmp_path / "two" / "int.txt").rename(tmp_path / "two" / "int2.txt")
    manifest = tmp_path / "two" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("int.txt", "int2.txt"))
    assert qc("ingest", tmp_path / "one", tmp_path / "two").exit_code == 0, "int.txt unchanged"
    docs = _docs(qc.project)
    assert docs["int.txt"]["site"] == "Brannock"
    assert docs["int2.txt"]["site"] == "Saltmere"


def test_single_file_uses_its_folders_manifest(qc, good_copy):
    result = qc("ingest", good_copy / "hol-interview.txt")
    assert result.exit_code == 0
    assert _docs(qc.project)["hol-interview.txt"]["pseudonym"] == "HOL-90"
    manifest = good_copy / "manifest.yaml"
    manifest.write_text(
        manifest.read_text().replace(
            "participant: SAL-90\n", "participant: SAL-90\n    consent: withdrawn\n"
        )
    )
    refused = qc("ingest", good_copy / "focus-group.md")
    assert refused.exit_code == 1
    assert "consent withdrawn" in refused.stderr


def test_csv_respondents_are_per_file_and_columns_are_mapped(qc, tmp_path):
    header = "id,Site,group,organization,tier,comment,response\n"
    _write(
        tmp_path / "a.csv",
        header + "1,Brannock,housing,Kestlow DC,operational,x,Housing is left out.\n",
    )
    _write(tmp_path / "b.csv", header + "1,Saltmere,carer,,user,y,Nobody asks carers.\n")
    result = qc("ingest", tmp_path / "a.csv", tmp_path / "b.csv", "--id-column", "ID")
    assert result.exit_code == 0, result.stderr
    docs = _docs(qc.project)
    assert docs["a.csv#1"]["pseudonym"] == "a:1"
    assert docs["b.csv#1"]["pseudonym"] == "b:1"
    assert docs["a.csv#1"]["stakeholder_group"] == "housing"
    assert docs["a.csv#1"]["organisation"] == "Kestlow DC"
    with open_project(qc.project) as store:
        text = store.execute("SELECT text FROM documents WHERE path = 'a.csv#1'").fetchone()[0]
    assert text == "Housing is left out."  # 'response' beats 'comment' whatever the order


def test_front_matter_fields_are_case_insensitive_and_unknown_ones_warned(qc, tmp_path):
    path = _write(
        tmp_path / "t.txt",
        "---\nSite: Brannock\nTier: Strategic\nstakeholdergroup: health\n---\nInterviewer: Hi\nP1: Hello.\n",
    )
    result = qc("ingest", path)
    assert result.exit_code == 0, result.stderr
    assert (
        "front matter field 'stakeholdergroup' (line 4) is not one qualcode knows" in result.stderr
    )
    doc = _docs(qc.project)["t.txt"]
    assert doc["site"] == "Brannock"


def test_manifest_csv_given_as_a_path(qc, tmp_path):
    _write(tmp_path / "a.txt", "Interviewer: Hi\nP1: Yes.\n")
    _write(tmp_path / "manifest.csv", "file,site,participant\na.txt,Brannock,BRA-5\n")
    _write(tmp_path / "README-sites.md", "Notes for the team.\n")
    result = qc("ingest", tmp_path / "manifest.csv")
    assert result.exit_code == 0, result.stderr
    assert set(_docs(qc.project)) == {"a.txt"}


def test_folder_walk_skips_readme_like_files(qc, tmp_path):
    _write(tmp_path / "a.txt", "Interviewer: Hi\nP1: Yes.\n")
    _write(tmp_path / "README-sites.md", "Notes for the team.\n")
    _write(tmp_path / "CHANGELOG.txt", "v2: added site B.\n")
    assert qc("ingest", tmp_path, "--default-site", "X").exit_code == 0
    assert set(_docs(qc.project)) == {"a.txt"}


def test_copy_of_an_ingested_file_is_skipped_with_a_reason(qc, tmp_path):
    _write(tmp_path / "one" / "a.txt", "Interviewer: Hi\nP1: Yes.\n")
    _write(tmp_path / "two" / "b.txt", "Interviewer: Hi\nP1: Yes.\n")
    assert qc("ingest", tmp_path / "one", "--default-site", "X").exit_code == 0
    result = qc("ingest", tmp_path / "two", "--default-site", "X")
    assert "Skipped: b.txt: same content as a.txt, already ingested" in result.stderr


def test_run_refuses_the_project_option(tmp_path, data):
    result = CliRunner().invoke(
        cli,
        ["-p", str(tmp_path / "x.db"), "run", str(data / "good"), "--out-dir", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "use --out-dir, not --project" in result.output


def test_docx_headings_and_bold_emphasis(tmp_path):
    from qualcode.ingest.docx import read_docx
    from qualcode.ingest.options import ReadOptions

    document = docx.Document()
    document.add_heading("Interview with a GP", level=1)
    for name, text in (
        ("Interviewer", "What helps?"),
        ("GP", "The attached worker."),
        ("Interviewer", "And?"),
        ("GP", "Speed."),
        ("Interviewer", "Anything else?"),
    ):
        p = document.add_paragraph()
        p.add_run(name).bold = True
        p.add_run(" " + text)
    p = document.add_paragraph()
    p.add_run("Important").bold = True
    p.add_run(" point: we never see the notes.")
    path = tmp_path / "i.docx"
    document.save(path)
    (doc,) = read_docx(path, ReadOptions(key="i.docx"))
    assert [(s.speaker, s.text) for s in doc.segments] == [
        ("Interviewer", "What helps?"),
        ("GP", "The attached worker."),
        ("Interviewer", "And?"),
        ("GP", "Speed."),
        ("Interviewer", "Anything else?\n\nImportant point: we never see the notes."),
    ]
    assert doc.warnings == []
