"""The command line as a user meets it: help with examples, status, and the main job."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from tests.conftest import CORPUS, REPO


def _commands(group: click.Group, prefix=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


ALL_COMMANDS = [(), *[path for path, _ in _commands(cli)]]


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "qualcode")
def test_every_command_has_help_with_an_example(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert "qualcode " in result.output.split("Example:")[1]


@pytest.mark.parametrize("path", [p for p in ALL_COMMANDS if p], ids=" ".join)
def test_every_command_is_in_the_readme(path):
    readme = (REPO / "README.md").read_text()
    assert f"qualcode {' '.join(path)}" in readme or re.search(
        rf"qualcode .*{' '.join(path)}", readme
    )


def test_status_table_per_site(qc, data, monkeypatch):
    monkeypatch.chdir(data)
    assert qc("ingest", "good").exit_code == 0
    result = qc("status")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("site"))
    assert header.split() == [
        "site",
        "interviews",
        "responses",
        "participants",
        "segments",
        "respondent",
        "words",
    ]
    hollinsford = next(line for line in lines if line.startswith("Hollinsford"))
    # hol-interview.txt and interview.docx, plus survey row R1
    assert hollinsford.split()[1:3] == ["2", "1"]
    assert any(line.startswith("total") for line in lines)
    assert "Recent runs" in result.output


def test_project_option_from_environment(tmp_path, monkeypatch):
    path = tmp_path / "env.db"
    monkeypatch.setenv("QUALCODE_PROJECT", str(path))
    result = CliRunner().invoke(cli, ["init"])
    assert result.exit_code == 0
    assert path.exists()


def test_run_on_the_demo_corpus(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["run", str(CORPUS), "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "qualcode.db").exists()
    rows = {
        line.split()[0]: line.split()
        for line in result.output.splitlines()
        if line.split() and line.split()[0] in {"Brannock", "Eddon", "Hollinsford", "Saltmere"}
    }
    assert set(rows) == {"Brannock", "Eddon", "Hollinsford", "Saltmere"}
    # human-human and human-machine agreement, each with an audit page
    assert "Agreement, Human coders: coder-a, coder-b (413 segments)" in result.output
    assert "Agreement, Human reference and machine: gold, machine (hybrid run" in result.output
    # the shipped coder trained on the demo's gold codings: computed, with whose and how many
    assert "(In-sample: hybrid (run" in result.output
    assert "trained on gold codings of 87 of these documents (413 of 413" in result.output
    # the shipped hybrid's out-of-domain figures and the families to review
    assert "Machine codes: expected kappa against a human coder on new text (" in result.output
    assert "review by hand:" in result.output
    for name in ("human", "machine"):
        report = json.loads((out / "agreement" / f"{name}.json").read_text())
        assert report["n_segments"] == 413
        assert "Agreement audit" in (out / "agreement" / f"{name}.html").read_text()
    # a second run finds everything unchanged and writes nothing new
    again = CliRunner().invoke(cli, ["run", str(CORPUS), "--out-dir", str(out)])
    assert again.exit_code == 0
    assert "Ingested 0 file(s)" in again.output


def test_run_refuses_a_file_as_corpus(tmp_path, data):
    result = CliRunner().invoke(
        cli, ["run", str(data / "good" / "hol-interview.txt"), "--out-dir", str(tmp_path / "o")]
    )
    assert result.exit_code == 2  # click: the argument must be a folder


def test_failed_run_leaves_no_project_behind(tmp_path, data):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes((data / "bad" / "latin1.txt").read_bytes())
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", str(corpus), "--out-dir", str(out)])
    assert result.exit_code == 1
    assert "a.txt:3" in result.stderr
    assert list(out.iterdir()) == []


def test_old_option_spellings_still_work_with_a_warning(qc, data, tmp_path):
    # Renamed in this release: the old spellings work for one more, each with a warning.
    ingested = qc("ingest", data / "good" / "hol-interview.txt", "--site", "Hollinsford")
    assert ingested.exit_code == 0, ingested.output
    assert "--site is deprecated" in ingested.output
    assert "use --default-site" in ingested.output
    coded = qc("code", "--coder", "rules")
    assert coded.exit_code == 0, coded.output
    assert "--coder is deprecated" in coded.output
    assert "use --kind" in coded.output
    assert "rules coded" in coded.output
    report = qc("report", "-o", tmp_path / "r", "--format", "docx")
    assert report.exit_code == 0, report.output
    assert "use --out-dir" in report.output
    assert "--docx adds a Word version" in report.output
    assert (tmp_path / "r" / "index.html").is_file()
    assert (tmp_path / "r" / "report.docx").is_file()
    themes = qc("themes", "--min-topic-size", "2")
    assert "use `qualcode themes fit [OPTIONS]`" in themes.output
    # a value that merely looks like an old option after `--` is left alone
    from qualcode.cli._util import rename_args

    assert rename_args(["--", "--coder"], {"--coder": "--kind"}) == ["--", "--coder"]


def test_settings_are_explicit_and_shown(qc, data):
    shown = qc("status")
    assert "Codebook: Barriers to and prerequisites" in shown.output
    assert "not yet set" in shown.output
    assert qc("ingest", data / "good" / "hol-interview.txt", "--default-site", "H").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    assert "set for this project" in qc("settings", "show").output
    refused = qc("settings", "training", "nobody")
    assert refused.exit_code == 1
    assert "no human coder 'nobody'" in refused.output
    assert "shipped codebook's training codings" in qc("settings", "show").output


@pytest.mark.parametrize("path", [p for p in ALL_COMMANDS if p], ids=" ".join)
def test_every_option_has_help(path):
    command = cli
    for name in path:
        command = command.get_command(click.Context(command), name)
    missing = [
        p.opts[0]
        for p in command.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert not missing, f"qualcode {' '.join(path)}: options without help: {missing}"
