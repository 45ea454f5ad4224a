"""The project store: schema versions, migrations, transactions, re-ingest and removal."""

from __future__ import annotations

import json
import sqlite3

import pytest

from qualcode.errors import StoreError
from qualcode.store import SCHEMA_VERSION, create_project, open_project
from qualcode.store import queries as q
from qualcode.store import schema as schema_module


def test_new_project_is_at_current_schema_with_foreign_keys_and_wal(project):
    with open_project(project) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in store.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "documents",
        "participants",
        "segments",
        "codebooks",
        "codes",
        "coders",
        "codings",
        "runs",
    } <= tables


def test_init_refuses_to_overwrite(qc):
    result = qc("init")
    assert result.exit_code == 3
    assert "already exists" in result.stderr


def test_newer_schema_is_refused(project):
    conn = sqlite3.connect(project)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this qualcode"):
        open_project(project)


def test_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(StoreError, match="not a qualcode project"):
        open_project(path)


def test_pending_migration_is_applied_on_open(project, monkeypatch):
    extra = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);"
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*schema_module.MIGRATIONS, extra])
    monkeypatch.setattr("qualcode.store.db.MIGRATIONS", schema_module.MIGRATIONS)
    monkeypatch.setattr("qualcode.store.db.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with open_project(project) as store:
        assert store.schema_version == SCHEMA_VERSION + 1
        store.execute("INSERT INTO notes (body) VALUES ('x')")


def test_failing_migration_leaves_old_version(project, monkeypatch):
    broken = "CREATE TABLE fine (x); CREATE TABLE documents (x);"  # second one fails
    monkeypatch.setattr("qualcode.store.db.MIGRATIONS", [*schema_module.MIGRATIONS, broken])
    monkeypatch.setattr("qualcode.store.db.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(sqlite3.OperationalError):
        open_project(project)
    conn = sqlite3.connect(project)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'fine'").fetchall()


def test_atomic_rolls_back_nested_work(project):
    with open_project(project) as store:
        before = q.dump(store)

        def failing_command():
            with store.atomic():
                q.start_run(store, "test")
                with store.atomic():
                    q.start_run(store, "nested")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            failing_command()
        assert q.dump(store) == before


def _add_coding(project, document_path: str) -> None:
    """A human coding on the first respondent segment of a document (raw SQL: codebooks
    arrive in a later stage)."""
    with open_project(project) as store, store.atomic():
        store.execute(
            "INSERT INTO codebooks (hash, name, content, loaded_at) VALUES ('h', 'cb', '', 'now')"
        )
        store.execute(
            "INSERT INTO codes (codebook_id, code, family, label, polarity)"
            " VALUES (1, 'financial.pooled_budget', 'financial', 'Pooled budget', 'prerequisite')"
        )
        store.execute("INSERT INTO coders (name, kind) VALUES ('coder-a', 'human')")
        segment = store.execute(
            "SELECT s.id FROM segments s JOIN documents d ON d.id = s.document_id"
            " WHERE d.path = ? AND s.is_interviewer = 0 LIMIT 1",
            (document_path,),
        ).fetchone()[0]
        store.execute(
            "INSERT INTO codings (segment_id, code_id, coder_id, created_at)"
            " VALUES (?, 1, 1, 'now')",
            (segment,),
        )


def test_reingest_unchanged_is_a_no_op(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    before = qc.dump()
    result = qc("ingest", good_copy)
    assert result.exit_code == 0
    assert "Ingested 0 file(s)" in result.output
    assert "Unchanged: 6 file(s)" in result.output
    assert qc.dump() == before


def test_changed_file_needs_replace_which_reports_dropped_codings(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    _add_coding(qc.project, "hol-interview.txt")
    transcript = good_copy / "hol-interview.txt"
    transcript.write_text(transcript.read_text() + "\nInterviewer: One more thing?\n")
    before = qc.dump()
    refused = qc("ingest", good_copy)
    assert refused.exit_code == 1
    assert "differs from the document ingested as" in refused.stderr
    assert "drops 1 codings" in refused.stderr
    assert qc.dump() == before
    replaced = qc("ingest", good_copy, "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "Replaced hol-interview.txt: dropped 1 codings." in replaced.output
    with open_project(qc.project) as store:
        assert store.execute("SELECT count(*) FROM codings").fetchone()[0] == 0
        text = store.execute(
            "SELECT text FROM documents WHERE path = 'hol-interview.txt'"
        ).fetchone()[0]
    assert text.endswith("One more thing?\n")


def test_remove_participant_removes_everything_including_file_bytes(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    _add_coding(qc.project, "hol-interview.txt")
    secret = "Nobody planned for it."
    assert secret.encode() in qc.project.read_bytes() + _wal(qc.project)
    result = qc("documents", "remove", "--participant", "HOL-90", "--yes")
    assert result.exit_code == 0, result.output
    assert "Removed 1 document(s), 4 segments, 1 codings and participants HOL-90." in result.output
    with open_project(qc.project) as store:
        assert store.execute("SELECT count(*) FROM codings").fetchone()[0] == 0
        assert not store.execute("SELECT 1 FROM participants WHERE pseudonym = 'HOL-90'").fetchall()
        assert not store.execute(
            "SELECT 1 FROM segments WHERE text LIKE '%planned for it%'"
        ).fetchall()
    assert secret.encode() not in qc.project.read_bytes() + _wal(qc.project)


def _wal(path):
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_remove_survey_file_removes_all_its_rows(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    result = qc("documents", "remove", "responses.csv", input="y\n")
    assert result.exit_code == 0, result.output
    assert "Removed 3 document(s)" in result.output
    assert "responses.csv" not in qc("documents", "list").output


def test_remove_unknown_document_is_an_error(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    before = qc.dump()
    result = qc("documents", "remove", "nope.txt", "--yes")
    assert result.exit_code == 1
    assert "nope.txt: no such document" in result.stderr
    assert qc.dump() == before


def test_ingest_records_a_run_and_metadata(qc, good_copy):
    assert qc("ingest", good_copy).exit_code == 0
    with open_project(qc.project) as store:
        run = store.execute("SELECT * FROM runs").fetchone()
        assert run["command"] == "ingest"
        assert run["status"] == "finished"
        assert json.loads(run["parameters"])["replace"] is False
        doc = store.execute("SELECT * FROM documents WHERE path = 'hol-interview.txt'").fetchone()
        assert doc["site"] == "Hollinsford"
        assert doc["wave"] == "1"
        assert doc["consent"] == "given"
        assert len(doc["sha256"]) == 64
        person = store.execute("SELECT * FROM participants WHERE pseudonym = 'EDV-90'").fetchone()
        assert (person["site"], person["tier"], person["role"]) == (
            "Eddon Vale",
            "frontline",
            "community psychiatric nurse",
        )


def test_create_project_in_missing_folder(tmp_path):
    with pytest.raises(StoreError, match="folder does not exist"):
        create_project(tmp_path / "no" / "p.db")


def test_backup_and_check(qc, tmp_path):
    import sqlite3

    from tests.conftest import CORPUS

    assert qc("ingest", CORPUS / "hollinsford" / "HOL-01.txt").exit_code == 0
    result = qc("check")
    assert result.exit_code == 0, result.output
    assert "The project is sound" in result.output
    copy = tmp_path / "copy.db"
    assert qc("backup", "-o", copy).exit_code == 0
    again = qc("backup", "-o", copy)
    assert again.exit_code == 1
    assert "already exists" in again.output
    with open_project(copy) as store:
        assert store.execute("SELECT count(*) FROM segments").fetchone()[0] > 0
    # damage the copy behind qualcode's back: a segment that no longer matches its document
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE documents SET text = 'X' || text")
    conn.commit()
    conn.close()
    from tests.conftest import Qualcode

    damaged = Qualcode(copy)("check")
    assert damaged.exit_code == 1
    assert "segments no longer match their document's text" in damaged.output


def test_status_counts_a_machine_coders_latest_run_only(qc):
    from tests.conftest import CORPUS

    assert qc("ingest", CORPUS / "hollinsford" / "HOL-01.txt").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0

    def site_row():
        return next(line for line in qc("status").output.splitlines() if "Hollinsford" in line)

    once = site_row()
    assert qc("code", "--kind", "rules").exit_code == 0
    assert site_row() == once  # found: a second run doubled the count
