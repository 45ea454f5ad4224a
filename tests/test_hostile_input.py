"""Hostile and broken input (issue 14): each case found by trying, with a regression test."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from qualcode.ingest.turns import segment_text
from qualcode.store import open_project

# Characters the speaker-label pattern cares about, to build texts that could make it backtrack.
PIECES = [
    " " * 8,
    " ",
    "\t",
    "\n",
    ":",
    "(",
    ")",
    "[",
    "]",
    "**",
    "#",
    "1",
    "a",
    "ab",
    ".",
    "’",
    "-",
]
TRICKY = st.lists(st.sampled_from(PIECES), max_size=80).map("".join)


def test_lines_that_begin_with_long_runs_of_spaces_segment_at_once(qc, tmp_path):
    # Found: 20 leading spaces took 10 s, 28 took 67 s, 32 over 300 s (a regex for "only
    # headings before the first label" backtracked exponentially).
    text = (
        " " * 40 + "we met every month and nothing moved\n"
    ) * 30 + "Interviewer: why?\nP1: money\n"
    (tmp_path / "spaces.txt").write_text(text, encoding="utf-8")
    result = qc("ingest", tmp_path / "spaces.txt", "--default-site", "x")
    assert result.exit_code == 0, result.output
    segments, _ = segment_text(text)
    assert segments[0].text.startswith("we met every month")


@settings(max_examples=400, deadline=250)
@given(TRICKY)
@example(" " * 32 + "a\n")  # the case that was found
def test_turn_parsing_never_takes_long_on_tricky_text(text):
    # Hypothesis fails an example that runs past the deadline: a bound on backtracking, not a
    # benchmark. Texts are short, so anything super-linear shows as seconds, not milliseconds.
    segment_text(text * 3)


def test_coding_cost_is_linear_in_a_segments_length():
    # Found on an earlier build: one 400,000-word turn ran 21 minutes under the rule coder.
    # A bound as a ratio against the same words in 100 ordinary segments, not a clock time:
    # quadratic cost would make the long turn about 100 times slower.
    import re
    import time

    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.coding.rules import RuleCoder
    from tests.conftest import CORPUS

    words = re.sub(r"\s+", " ", (CORPUS / "saltmere" / "SAL-03.txt").read_text()).split()
    text = " ".join((words * 40)[:100_000])
    pieces = [" ".join(text.split()[i : i + 1000]) for i in range(0, 100_000, 1000)]
    coder = RuleCoder(load_codebook(default_codebook_path()))
    coder.fit()
    coder.predict(pieces[:5])  # warm up spaCy
    started = time.perf_counter()
    short = coder.predict(pieces)
    short_seconds = time.perf_counter() - started
    started = time.perf_counter()
    [long] = coder.predict([text])
    long_seconds = time.perf_counter() - started
    assert long_seconds < 5 * short_seconds + 1.0
    assert {a.code for a in long} == {a.code for p in short for a in p}


def _laughs(levels: int = 9) -> str:
    """A YAML 'billion laughs': each level repeats the one before ten times (10**9 strings)."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_in_a_codebook_is_refused_by_line(qc, tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text("name: x\n" + _laughs() + "codes: []\n", encoding="utf-8")
    result = qc("codebook", "validate", path)
    assert result.exit_code == 1
    assert "bomb.yaml:" in result.output
    assert "values once YAML aliases are expanded: more than the limit of 1000000" in result.output
    assert "QUALCODE_MAX_YAML_VALUES" in result.output


def test_a_yaml_alias_bomb_in_a_manifest_or_front_matter_is_refused(qc, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "manifest.yaml").write_text(_laughs(), encoding="utf-8")
    (corpus / "a.txt").write_text("Interviewer: hi\nP1: hello\n", encoding="utf-8")
    result = qc("ingest", corpus)
    assert result.exit_code == 1
    assert "manifest.yaml:" in result.output
    assert "values once YAML aliases are expanded" in result.output
    other = tmp_path / "d"
    other.mkdir()
    (other / "b.txt").write_text("---\n" + _laughs() + "---\nInterviewer: hi\nP1: hello\n")
    result = qc("ingest", other / "b.txt")
    assert result.exit_code == 1
    assert "b.txt:" in result.output
    assert "values once YAML aliases are expanded" in result.output


def test_the_yaml_limits_can_be_changed(qc, tmp_path, monkeypatch):
    path = tmp_path / "few.yaml"
    path.write_text(
        'name: x\nauthors: &who ["a", "b"]\nreferences: *who\n'
        "codes: [{id: a, label: A, polarity: neutral}]\n"
    )
    assert qc("codebook", "validate", path).exit_code == 0  # one alias: within the budget
    monkeypatch.setenv("QUALCODE_MAX_YAML_ALIASES", "0")
    result = qc("codebook", "validate", path)
    assert result.exit_code == 1
    assert "few.yaml:3: 1 YAML aliases (*name): more than the limit of 0" in result.output
    assert "(set QUALCODE_MAX_YAML_ALIASES to raise it)" in result.output
    monkeypatch.setenv("QUALCODE_MAX_YAML_ALIASES", "100")
    monkeypatch.setenv("QUALCODE_MAX_YAML_VALUES", "5")
    result = qc("codebook", "validate", path)
    assert result.exit_code == 1
    assert "values once YAML aliases are expanded: more than the limit of 5" in result.output


def test_a_link_out_of_the_corpus_folder_is_not_followed(qc, tmp_path):
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "diary.txt").write_text("Interviewer: hi\nP1: my secret words\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Interviewer: hi\nP1: hello there\n", encoding="utf-8")
    (corpus / "leak.txt").symlink_to(secret / "diary.txt")
    result = qc("ingest", corpus, "--default-site", "x")
    assert result.exit_code == 0, result.output
    assert "a link to a file outside the folder" in result.output
    assert "secret words" not in qc.dump()


@pytest.mark.parametrize(
    ("yaml_text", "field"),
    [
        ("documents:\n- file: a.txt\ncodings:\n  x: /etc/passwd\n", "codings.x"),
        ("documents:\n- file: ../private/diary.txt\n", "documents[0].file"),
    ],
)
def test_a_manifest_cannot_name_files_outside_its_folder(qc, tmp_path, yaml_text, field):
    secret = tmp_path / "private"
    secret.mkdir()
    (secret / "diary.txt").write_text("Interviewer: hi\nP1: my secret words\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Interviewer: hi\nP1: hello there\n", encoding="utf-8")
    (corpus / "manifest.yaml").write_text(yaml_text, encoding="utf-8")
    result = qc("ingest", corpus)
    assert result.exit_code == 1
    assert (
        f"manifest.yaml: {field}" in result.output or f"manifest.yaml:2: {field}" in result.output
    )
    assert "is outside the manifest's folder" in result.output
    assert "root:" not in result.output  # /etc/passwd's first line is never shown
    assert "secret words" not in result.output


def test_csv_exports_never_carry_a_live_formula(qc, tmp_path):
    # Found: a transcript line starting with = + - or @ became a live formula in codings.csv,
    # themes.csv and the agreement CSV. Every CSV now goes through one writer.
    import csv
    import io

    from qualcode.textio import csv_text

    doc = tmp_path / "f.txt"
    turns = [
        '=HYPERLINK("http://evil","click") we never had a pooled budget and money was short',
        "+1 the council cut the funding again this year",
        "-2 we met every month and nothing moved, the GPs felt left out",
        "@SUM(A1) trust between the council and the NHS trust was low",
    ]
    doc.write_text("".join(f"Interviewer: and?\nP1: {t}\n" for t in turns), encoding="utf-8")
    assert qc("ingest", doc, "--default-site", "x").exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    exported = qc("codings", "export", "--format", "csv").output
    cells = [c for row in csv.reader(io.StringIO(exported)) for c in row]
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c[:1] in ("=", "+", "-", "@") for c in cells)
    out = csv_text(["a", "b"], [["=1+1", -3], {"a": "@x", "b": "plain"}])
    assert out.splitlines() == ["a,b", "'=1+1,-3", "'@x,plain"]  # numbers stay numbers


def test_withdrawal_reaches_every_output(tmp_path):
    # Found: after `documents remove` the words were still in agreement pages, the report,
    # codings.csv and stored topic models.
    import shutil

    from click.testing import CliRunner

    from qualcode.cli import cli
    from tests.conftest import CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(cli, ["run", str(corpus), "--out-dir", str(out)]).exit_code == 0
    project = out / "qualcode.db"
    own = tmp_path / "mine.csv"
    assert (
        runner.invoke(cli, ["-p", str(project), "codings", "export", "-o", str(own)]).exit_code == 0
    )
    phrase = "they see carers as the council"
    doc = corpus / "saltmere" / "SAL-03.txt"
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".csv")]
    assert any(phrase in p.read_text(encoding="utf-8") for p in written)
    key = f"saltmere/{doc.name}"
    result = runner.invoke(cli, ["-p", str(project), "documents", "remove", key, "--yes"])
    assert result.exit_code == 0, result.output
    assert "Dropped" in result.output
    assert "topic model" in result.output
    assert str(own.resolve()) in result.output
    assert str((out / "report" / "index.html").resolve()) in result.output
    left = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".csv")]
    assert not [p for p in left if phrase in p.read_text(encoding="utf-8")]
    assert not own.exists()
    with open_project(project) as store:
        kept = {tuple(r) for r in store.execute("SELECT grouping, group_value FROM topic_models")}
    # the whole-corpus model and Saltmere's went; the other sites' models never saw the text
    assert kept == {("site", "Brannock"), ("site", "Eddon Vale"), ("site", "Hollinsford")}


TEXT = "Interviewer: How was it?\nP1: We pooled the budget — café money, naïve hopes.\n"


@pytest.mark.parametrize(
    ("encode", "outcome"),
    [
        (lambda t: t.encode("utf-16"), "ok"),  # with a BOM: read
        (lambda t: t.encode("utf-8-sig"), "ok"),
        (
            lambda t: t.encode("utf-16-le"),
            "NUL bytes: not a text file, or UTF-16 without a byte-order mark",
        ),
        (lambda t: t.encode("latin-1", "replace"), "is not valid UTF-8; re-save the file as UTF-8"),
        (lambda t: t.encode("cp1252"), "is not valid UTF-8; re-save the file as UTF-8"),
        (lambda t: t.encode() + b"\0\0\0", "contains NUL bytes"),
    ],
    ids=["utf16-bom", "utf8-bom", "utf16-no-bom", "latin1", "cp1252", "nul"],
)
def test_encodings_are_read_or_refused_in_one_line(qc, tmp_path, encode, outcome):
    path = tmp_path / "t.txt"
    path.write_bytes(encode(TEXT))
    before = qc.dump()
    result = qc("ingest", path, "--default-site", "x")
    if outcome == "ok":
        assert result.exit_code == 0, result.output
        assert "café money" in qc.dump()
    else:
        assert result.exit_code == 1
        assert outcome in result.output
        assert len(result.output.strip().splitlines()) == 1
        assert qc.dump() == before


def test_a_huge_single_line_is_refused_with_the_limit(qc, tmp_path, monkeypatch):
    # A 50 MB single line under the default limit of 5,000,000 characters a line; shown here
    # with the limit lowered so the test writes 60 KB, not 50 MB.
    monkeypatch.setenv("QUALCODE_MAX_LINE_CHARS", "50000")
    path = tmp_path / "one-line.txt"
    path.write_text("P1: " + "word " * 12_000, encoding="utf-8")
    result = qc("ingest", path, "--default-site", "x")
    assert result.exit_code == 1
    assert (
        "one-line.txt:1: 60004 characters on one line: more than the limit of 50000"
        in result.output
    )
    assert "QUALCODE_MAX_LINE_CHARS" in result.output
    monkeypatch.setenv("QUALCODE_MAX_FILE_BYTES", "1000")
    result = qc("ingest", path, "--default-site", "x")
    assert "bytes in one file: more than the limit of 1000" in result.output


def test_a_docx_zip_bomb_is_refused_before_unpacking(qc, tmp_path):
    import zipfile

    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", b"\0" * (20 << 20))
    result = qc("ingest", path, "--default-site", "x")
    assert result.exit_code == 1
    assert "bomb.docx: refused: member 'word/document.xml':" in result.output
    assert "zip bomb" in result.output
    assert "QUALCODE_MAX_ZIP_RATIO" in result.output


def test_many_tiny_files_ingest(qc, tmp_path):
    # 2,000 here for the suite's time; 20,000 measured by hand (see the README).
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(2000):
        (folder / f"r{i:05d}.txt").write_text(f"Interviewer: and?\nP{i}: answer {i}\n")
    result = qc("ingest", folder, "--default-site", "x")
    assert result.exit_code == 0, result.output
    assert "2000 documents" in result.output


def test_a_file_of_interviewer_turns_only_is_warned_about(qc, tmp_path):
    # Found by a first-time user: the answer after a one-off label was swallowed silently.
    path = tmp_path / "one.txt"
    path.write_text("Interviewer: Tell me.\nManager: funding was cut.\n", encoding="utf-8")
    result = qc("ingest", path, "--default-site", "x")
    assert result.exit_code == 0
    assert "every turn is an interviewer's, so nothing in it will be coded" in result.output
