"""REFI-QDA exchange: real files from NVivo, ATLAS.ti, MAXQDA and qc, read in place from
../shared/interop (never copied here), and qualcode's own exports checked against the schema.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pytest

from qualcode.interop.archive import open_archive
from qualcode.interop.refi import read_project
from qualcode.store import open_project
from tests.conftest import CORPUS, REPO
from tests.test_agree_cli import DOCUMENTS, _subset

INTEROP = REPO.parent / "shared" / "interop"
needs_shared = pytest.mark.skipif(
    not INTEROP.is_dir(), reason="../shared/interop (real files from other tools) is absent"
)

# The counts ../shared/interop/README.md states for each project: sources, codes, users,
# selections, codings, sets; and the text sources qualcode keeps (empty ones are skipped).
FILES = {
    "qc_demo.qdpx": ((2, 262, 1, 158, 205, 0), 2),
    "nvivo_project.qdpx": ((2, 262, 2, 0, 0, 0), 0),
    "nvivo_win_oltas0517.qdpx": ((2, 152, 2, 303, 303, 0), 2),
    "maxqda_icls_just10.qdpx": ((10, 307, 1, 0, 0, 2), 10),
    "atlasti_ponte_target.qdpx": ((0, 3, 2, 0, 0, 0), 0),
    "atlasti_ponte_blank.qdpx": ((0, 0, 2, 0, 0, 0), 0),
}


def _counts(output: str) -> tuple[int, ...]:
    found = re.search(
        r"(\d+) sources, (\d+) codes, (\d+) users, (\d+) selections with (\d+) codings", output
    )
    assert found, output
    return tuple(int(x) for x in found.groups())


@needs_shared
@pytest.mark.parametrize("name", sorted(FILES))
def test_real_projects_import_with_the_stated_counts(qc, name):
    (sources, codes, users, selections, codings, sets), kept = FILES[name]
    result = qc("import", INTEROP / name, "--site", "elsewhere")
    assert result.exit_code == 0, result.output
    assert _counts(result.output) == (sources, codes, users, selections, codings)
    archive = open_archive(INTEROP / name)
    assert read_project(archive).all_sets == sets
    archive.close()
    with open_project(qc.project) as store:
        assert store.execute("SELECT count(*) FROM documents").fetchone()[0] == kept
        assert store.execute("SELECT count(*) FROM coders").fetchone()[0] == users
        spans = store.execute(
            'SELECT p.start, p."end", length(d.text) FROM coding_spans p'
            " JOIN documents d ON d.id = p.document_id"
        ).fetchall()
        stored_codes = store.execute("SELECT count(*) FROM codes").fetchone()[0]
    assert all(0 <= s < e <= n for s, e, n in spans)
    if codes:
        assert stored_codes >= codes  # plus a leaf for each parent coded directly


@needs_shared
def test_qc_codes_keep_their_tree_guids_and_repeated_names(qc):
    assert qc("import", INTEROP / "qc_demo.qdpx").exit_code == 0
    with open_project(qc.project) as store:
        book = json.loads(
            store.execute("SELECT parsed FROM codebooks ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
    codes = book["codes"]
    from_file = [c for c in codes if c.get("guid")]
    assert len(from_file) == 262
    assert len({c["id"] for c in codes}) == len(codes)
    assert len({c["label"] for c in from_file}) < 262  # names repeat across branches
    depth = [c["id"].count(".") for c in from_file]
    assert [depth.count(d) for d in range(7)] == [3, 18, 112, 91, 26, 9, 3]
    assert {c["id"] for c in from_file if "." not in c["id"]} == {
        "rq1_definition",
        "rq2_curriculum_and_instruction",
        "rq3_process",
    }


@needs_shared
def test_nvivo_windows_offsets_are_utf16_units_after_the_bom():
    archive = open_archive(INTEROP / "nvivo_win_oltas0517.qdpx")
    project = read_project(archive)
    archive.close()
    assert project.offsets == "utf16"
    [coded] = [s for s in project.sources if s.selections]
    text = coded.text
    assert "\r" not in text
    assert not text.startswith("\ufeff")
    starts = sum(1 for s in coded.selections if s.start == 0 or text[s.start - 1] == "\n")
    ends = sum(1 for s in coded.selections if text[s.end - 1] == "\n" or text[s.end] == "\n")
    assert (starts, ends) == (281, 285)  # README: line breaks line up only in UTF-16 units
    users = {c.user for s in coded.selections for c in s.codings}
    assert {project.users[u] for u in users} == {"floriansipos", "Gergo"}


@needs_shared
def test_maxqda_codes_keep_colours_and_descriptions(qc):
    assert qc("import", INTEROP / "maxqda_icls_just10.qdpx", "--site", "icls").exit_code == 0
    with open_project(qc.project) as store:
        book = json.loads(
            store.execute("SELECT parsed FROM codebooks ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
        sites = {r[0] for r in store.execute("SELECT DISTINCT site FROM documents")}
    assert sites == {"icls"}
    assert len(book["codes"]) == 307
    assert all(re.fullmatch(r"#[0-9A-Fa-f]{6}", c["color"]) for c in book["codes"])
    assert all(c.get("definition") for c in book["codes"])


@needs_shared
def test_qdc_codebooks_in_both_namespaces(qc, tmp_path):
    out = tmp_path / "atlas.yaml"
    result = qc("codebook", "import", INTEROP / "atlasti_requal_valid.qdc", "-o", out)
    assert result.exit_code == 0, result.output
    assert "1 codes (1 codable), 1 sets" in result.output
    assert qc("codebook", "validate", out).exit_code == 0
    data = out.read_text(encoding="utf-8")
    assert "color: '#46AA00'" in data
    assert "code group 1" in data
    broken = qc("codebook", "import", INTEROP / "atlasti_requal_truncated.qdc")
    assert broken.exit_code == 1
    assert "atlasti_requal_truncated.qdc:17: not well-formed XML" in broken.output
    assert len(broken.output.strip().splitlines()) == 1


def test_codebook_qdc_round_trip(qc, tmp_path):
    qdc = tmp_path / "shipped.qdc"
    assert qc("codebook", "export", "--format", "qdc", "-o", qdc).exit_code == 0
    back = tmp_path / "back.yaml"
    assert qc("codebook", "import", qdc, "-o", back).exit_code == 0
    from qualcode.codebook import default_codebook_path, load_codebook

    original, again = load_codebook(default_codebook_path()), load_codebook(back)
    assert list(again.codes) == list(original.codes)
    for code_id, code in original.codes.items():
        twin = again.codes[code_id]
        assert (twin.label, twin.polarity, twin.parent, twin.definition) == (
            code.label,
            code.polarity,
            code.parent,
            code.definition,
        )


# -- hostile and broken files: one line naming the file and member, the store unchanged -------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


PROJECT = (
    b'<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x">'
    b"</Project>"
)
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    b'<Project xmlns="urn:QDA-XML:project:1.0" name="&lol2;"/>'
)


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"project.qde": PROJECT, "../evil.txt": b"x"}, "points outside the archive"),
        ({"project.qde": PROJECT, "/etc/evil": b"x"}, "has an absolute path"),
        ({"project.qde": PROJECT, "sources/big.txt": b"\0" * (3 << 20)}, "zip bomb"),
        ({"project.qde": BOMB}, "entities are not allowed"),
        ({"project.qde": PROJECT[:-12]}, "project.qde:1: not well-formed XML"),
        ({"other/readme.txt": b"x"}, "no project.qde"),
        ({"project.qde": b"<Codebook/>"}, "not Project"),
    ],
)
def test_hostile_or_broken_projects_are_refused_cleanly(qc, tmp_path, members, message):
    assert qc("ingest", CORPUS / DOCUMENTS[0]).exit_code == 0
    before = qc.dump()
    result = qc("import", _zip(tmp_path / "bad.qdpx", members))
    assert result.exit_code == 1
    assert message in result.output
    assert "bad.qdpx" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert qc.dump() == before


def test_a_truncated_archive_is_refused(qc, tmp_path):
    good = _zip(tmp_path / "good.qdpx", {"project.qde": PROJECT})
    bad = tmp_path / "cut.qdpx"
    bad.write_bytes(good.read_bytes()[:40])
    result = qc("import", bad)
    assert result.exit_code == 1
    assert "cut.qdpx: not a REFI-QDA project" in result.output


# -- export, schema, round trip ----------------------------------------------------------------


@pytest.fixture
def coded_project(qc, tmp_path):
    for name in DOCUMENTS:
        assert qc("ingest", CORPUS / name, "--default-site", name.split("/")[0]).exit_code == 0
    for coder in ("coder-a", "coder-b"):
        path, _ = _subset(tmp_path, coder)
        assert qc("codings", "import", path, "--coder", coder).exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    return qc


def _spans(project: Path) -> dict[str, set[tuple]]:
    """Coder -> (document text hash, code, start, end) of every span, or coded segment."""
    with open_project(project) as store:
        out: dict[str, set[tuple]] = {}
        for r in store.execute(
            'SELECT k.name, d.text, x.code, p.start, p."end" FROM coding_spans p'
            " JOIN coders k ON k.id = p.coder_id JOIN documents d ON d.id = p.document_id"
            " JOIN codes x ON x.id = p.code_id"
        ):
            out.setdefault(r[0], set()).add((hash(r[1]), r[2], r[3], r[4]))
    return out


@pytest.mark.skipif(not (INTEROP / "Project.xsd").is_file(), reason="no Project.xsd")
def test_export_validates_against_the_schema_and_round_trips(coded_project, tmp_path, project):
    import xmlschema

    out = tmp_path / "study.qdpx"
    result = coded_project("export", "qdpx", "-o", out)
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as z:
        xml = z.read("project.qde")
        names = z.namelist()
    xmlschema.XMLSchema(str(INTEROP / "Project.xsd")).validate(xml.decode("utf-8"))
    assert sum(n.startswith("sources/") for n in names) == len(DOCUMENTS)
    assert b"confidence" in xml  # machine evidence travels as notes

    fresh = tmp_path / "fresh.db"
    from tests.conftest import Qualcode

    again = Qualcode(fresh)
    assert again("init").exit_code == 0
    imported = again("import", out)
    assert imported.exit_code == 0, imported.output
    assert "already stored" in imported.output or "stored" in imported.output
    with open_project(coded_project.project) as a, open_project(fresh) as b:
        docs = lambda s: {  # noqa: E731
            (r[0], r[1], r[2]) for r in s.execute("SELECT path, site, text FROM documents")
        }
        assert docs(a) == docs(b)
        hashes = lambda s: {r[0] for r in s.execute("SELECT hash FROM codebooks")}  # noqa: E731
        assert hashes(b) <= hashes(a)  # the same codebook, not a lossy copy
    before, after = _spans(coded_project.project), _spans(fresh)
    for coder in ("coder-a", "coder-b"):
        assert after[coder] == before[coder]
    # the machine run comes back as a human-readable record of what it coded, segment by
    # segment, under its run's name
    [machine] = [k for k in after if k.startswith("rules")]
    assert len(after[machine]) > 0


def test_two_coders_exports_give_the_nvivo_figures_through_qdpx(qc, tmp_path):
    line = "P: this turn says the same words as every other turn.\n"
    (tmp_path / "long.txt").write_text(line * 1000, encoding="utf-8")
    assert qc("ingest", tmp_path / "long.txt").exit_code == 0
    code = "financial.budget_constraints"
    for coder, (first, last) in {"A": (0, 150), "B": (100, 200)}.items():
        path = tmp_path / f"{coder}.csv"
        path.write_text(
            f"document,start,end,code\nlong.txt,{first * len(line)},{last * len(line)},{code}\n"
        )
        assert qc("codings", "import", path, "--coder", coder).exit_code == 0
        assert (
            qc("export", "qdpx", "-o", tmp_path / f"{coder}.qdpx", "--coder", coder).exit_code == 0
        )

    from tests.conftest import Qualcode

    supervisor = Qualcode(tmp_path / "supervisor.db")
    assert supervisor("init").exit_code == 0
    first = supervisor("import", tmp_path / "A.qdpx", "--coder-map", "A=alice")
    assert first.exit_code == 0, first.output
    second = supervisor("import", tmp_path / "B.qdpx")
    assert "1 already in the project" in second.output
    for unit in ("segment", "character"):
        result = supervisor(
            "agree", "--coders", "alice,B", "--codes", code, "--unit", unit, "--format", "json"
        )
        assert result.exit_code == 0, result.output
        row = json.loads(result.output)["codes"][0]
        assert row["percent_agreement"] == pytest.approx(0.85, abs=1e-4)
        assert row["cohen_kappa"] == pytest.approx(0.318, abs=5e-4)


def test_unknown_user_in_a_coder_map_is_an_error(coded_project, tmp_path):
    out = tmp_path / "a.qdpx"
    assert coded_project("export", "qdpx", "-o", out, "--coder", "coder-a").exit_code == 0
    result = coded_project("import", out, "--coder-map", "nobody=x")
    assert result.exit_code == 1
    assert "--coder-map: no user 'nobody'" in result.output


def test_export_of_an_unknown_coder_names_the_known_ones(coded_project, tmp_path):
    result = coded_project("export", "qdpx", "-o", tmp_path / "x.qdpx", "--coder", "zed")
    assert result.exit_code == 1
    assert "no coder 'zed'" in result.output
    assert not (tmp_path / "x.qdpx").exists()


def test_exported_sources_are_the_stored_texts(coded_project, tmp_path):
    out = tmp_path / "s.qdpx"
    assert coded_project("export", "qdpx", "-o", out).exit_code == 0
    with zipfile.ZipFile(out) as z:
        texts = {z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")}
    with open_project(coded_project.project) as store:
        stored = {r[0] for r in store.execute("SELECT text FROM documents")}
    assert texts == stored
    rows = list(csv.DictReader((CORPUS / "codings" / "coder-a.csv").open(encoding="utf-8")))
    assert rows  # the corpus the fixture used is present


@needs_shared
def test_a_tabulated_human_coding_imports_with_the_stated_counts(qc):
    result = qc(
        "import",
        INTEROP / "scrum_quality_coded_data.csv",
        "--coder",
        "alami",
        "--document-column",
        "document ID",
        "--text-column",
        "text_chunk",
        "--code-column",
        "code_1",
    )
    assert result.exit_code == 0, result.output
    # README: 595 rows, 39 documents, 249 distinct chunks, 178 codes (173 case-folded)
    assert "595 rows, 39 documents, 249 passages, 178 codes as written (173 once" in result.output
    assert "alami: 595 codings on 249 segments in 39 documents" in result.output
    with open_project(qc.project) as store:
        for text, start, end, segment in store.execute(
            'SELECT d.text, s.start, s."end", s.text FROM segments s'
            " JOIN documents d ON d.id = s.document_id"
        ):
            assert text[start:end] == segment


def test_a_table_without_its_columns_names_them(qc, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("who,what\nA,said this\n", encoding="utf-8")
    result = qc("import", path, "--coder", "x")
    assert result.exit_code == 1
    assert "t.csv:1: no column 'document', 'text', 'code' (columns: who, what)" in result.output
    assert qc("import", path).exit_code == 2  # --coder is required for a table


# -- the variants real tools write, built here: names, namespaces, paths, encodings ----------


def _project_xml(sources: str, ns: str = ' xmlns="urn:QDA-XML:project:1.0"') -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Project{ns} name="v" origin="test">'
        '<Users><User guid="u1" name="kim"/></Users>'
        '<CodeBook><Codes><Code guid="c1" name="Money" isCodable="true">'
        '<Code guid="c2" name="Pooled" isCodable="true"/></Code></Codes></CodeBook>'
        f"<Sources>{sources}</Sources></Project>"
    ).encode()


SELECTION = (
    '<PlainTextSelection guid="s{n}" startPosition="{a}" endPosition="{b}" creatingUser="u1">'
    '<Coding guid="k{n}"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>'
)
TEXT = "Interviewer: Money?\r\n\r\nKim: We pooled it 😀 all.\r\n\r\nInterviewer: And?\r\n\r\nKim: It held.\r\n"


def _selection(n: int, a: int, b: int, code: str = "c2") -> str:
    return SELECTION.format(n=n, a=a, b=b, code=code)


def test_variants_of_names_paths_and_offsets(qc, tmp_path):
    raw = TEXT.encode("utf-8-sig")
    start = TEXT.index("We pooled")  # code points on the raw text, CRLF counted as two
    end = TEXT.index("\r\n\r\nInterviewer: And")
    sources = (
        f'<TextSource guid="t1" name="one" plainTextPath="internal://t1.txt">'
        f"{_selection(1, start, end)}{_selection(2, start, end, 'c1')}</TextSource>"
        '<TextSource guid="t2" name="two" plainTextPath="t2.txt"/>'
        '<TextSource guid="t3" name="inline"><PlainTextContent>Kim: yes.\n\nKim: no.</PlainTextContent>'
        "</TextSource>"
        '<TextSource guid="t4" name="lost" plainTextPath="internal://t4.txt"/>'
        '<PDFSource guid="p1" name="scan"/>'
    )
    path = _zip(
        tmp_path / "v.qdpx",
        {
            "My Project.qde": _project_xml(sources, ns=""),
            "Sources/t1.txt": raw,
            "sources/t2.txt": raw,
        },
    )
    result = qc("import", path)
    assert result.exit_code == 0, result.output
    assert "5 sources, 2 codes, 1 users, 2 selections with 2 codings" in result.output
    assert "source scan (PDFSource) skipped" in result.output
    assert "source 'lost' skipped: its text 'internal://t4.txt' is missing" in result.output
    assert "Documents: 2 added, 1 already in the project" in result.output  # two = one's text
    with open_project(qc.project) as store:
        spans = store.execute(
            'SELECT x.code, substr(d.text, p.start + 1, p."end" - p.start) FROM coding_spans p'
            " JOIN documents d ON d.id = p.document_id JOIN codes x ON x.id = p.code_id"
        ).fetchall()
        book = json.loads(
            store.execute("SELECT parsed FROM codebooks ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
    assert sorted(map(tuple, spans)) == [
        ("money.at_this_level", "We pooled it 😀 all."),
        ("money.pooled", "We pooled it 😀 all."),
    ]
    assert [c["id"] for c in book["codes"]] == ["money", "money.pooled", "money.at_this_level"]


def test_utf16_offsets_count_an_emoji_as_two(qc, tmp_path):
    raw = TEXT.encode("utf-8")
    units = TEXT.encode("utf-16-le")
    start = TEXT.index("all.")
    end = TEXT.index("\r\n\r\nInterviewer: And")
    a, b = len(TEXT[:start].encode("utf-16-le")) // 2, len(TEXT[:end].encode("utf-16-le")) // 2
    assert a == start + 1
    assert len(units) // 2 == len(TEXT) + 1
    sources = f'<TextSource guid="t1" name="one" plainTextPath="internal://t1.txt">{_selection(1, a, b)}</TextSource>'
    path = _zip(tmp_path / "w.qdpx", {"project.qde": _project_xml(sources), "sources/t1.txt": raw})
    assert qc("import", path, "--offsets", "utf16").exit_code == 0
    with open_project(qc.project) as store:
        [(coded,)] = store.execute(
            'SELECT substr(d.text, p.start + 1, p."end" - p.start) FROM coding_spans p'
            " JOIN documents d ON d.id = p.document_id"
        ).fetchall()
    assert coded == "all."


def test_a_docx_only_source_is_read_from_its_text(qc, tmp_path):
    import io

    import docx

    document = docx.Document()
    for line in ("Interviewer: Money?", "Kim: We pooled it.", "Interviewer: And?", "Kim: It held."):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    sources = '<TextSource guid="t1" name="word" richTextPath="internal://t1.docx"/>'
    path = _zip(
        tmp_path / "d.qdpx",
        {"project.qde": _project_xml(sources), "sources/t1.docx": buffer.getvalue()},
    )
    result = qc("import", path)
    assert result.exit_code == 0, result.output
    with open_project(qc.project) as store:
        [(text,)] = store.execute("SELECT text FROM documents").fetchall()
        speakers = {
            r[0] for r in store.execute("SELECT speaker FROM segments WHERE is_interviewer = 0")
        }
    assert "Kim: We pooled it." in text
    assert speakers == {"Kim"}
