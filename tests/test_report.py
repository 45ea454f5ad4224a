"""The site-comparison report: written by `qualcode run`, self-contained, escaped, deterministic."""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.coding.expected import EXPECTED_PATH
from qualcode.store import open_project
from tests.conftest import CORPUS, Qualcode

SECTIONS = (
    "glance",
    "overview",
    "matrix",
    "side-by-side",
    "scorecard",
    "breakdown",
    "themes",
    "cooccurrence",
    "agreement",
    "quotes",
    "method",
)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "demo"
    result = CliRunner().invoke(cli, ["run", str(CORPUS), "--out-dir", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Report: {out / 'report' / 'index.html'}" in result.output
    return out


def test_the_report_has_every_section_and_nothing_external(demo_run):
    html = (demo_run / "report" / "index.html").read_text()
    for section in SECTIONS:
        assert f'<section id="{section}"' in html
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN, nothing to fetch
    assert "<svg" in html
    assert "@media print" in html
    assert "<h3>Per site</h3>" in html  # a topic model per site, from `run`
    # a prerequisite is weighed against every barrier paired with it
    assert "against: Budget constraints, Short-term funding" in html
    assert '<th scope="row">Saltmere: strategic</th>' in html  # tiers within each site
    for site in ("Brannock", "Eddon Vale", "Hollinsford", "Saltmere"):
        assert f'<th scope="row">{site}</th>' in html
    # the agreement summary links to audit pages that sit beside the report
    for name in ("agreement-human.html", "agreement-machine.html"):
        assert f'href="{name}"' in html
        assert (demo_run / "report" / name).exists()
    # a cell links to quotes that exist
    anchors = set(re.findall(r'href="#(q-[^"]+)"', html))
    assert anchors
    assert all(f'id="{a}"' in html for a in anchors)


def test_matrix_csv_matches_an_independent_count(demo_run):
    folder = demo_run / "report"
    codings = list(csv.DictReader((folder / "codings.csv").open(encoding="utf-8")))
    matrix = list(csv.DictReader((folder / "matrix.csv").open(encoding="utf-8")))
    qc = Qualcode(demo_run / "qualcode.db")
    from qualcode.store import open_project

    with open_project(qc.project) as store:
        per_site = dict(
            store.execute(
                "SELECT d.site, count(*) FROM segments s JOIN documents d ON d.id = s.document_id"
                " WHERE s.is_interviewer = 0 GROUP BY d.site"
            ).fetchall()
        )
    hits = Counter((r["code"], r["site"]) for r in codings)
    checked = 0
    for row in matrix:
        if row["level"] != "code":
            continue
        n = hits[(row["code"], row["site"])]
        assert int(row["segments"]) == n
        assert float(row["share"]) == pytest.approx(n / per_site[row["site"]], abs=1e-4)
        assert row["under_minimum"] == str(int(n < 5))  # the report's small-numbers rule
        checked += 1
    assert checked == 42 * 4
    # gold coded every segment, so the report rests on it rather than on the machine
    assert {r["coder"] for r in codings} == {"gold"}
    themes = list(csv.DictReader((folder / "themes.csv").open(encoding="utf-8")))
    assert themes
    assert {"keywords", "quotes", "emergent"} <= set(themes[0])


def _strip_times(text: str) -> str:
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", "TIME", text)


def test_the_same_project_gives_the_same_report(demo_run, tmp_path):
    qc = Qualcode(demo_run / "qualcode.db")
    for name in ("a", "b"):
        assert qc("report", "--out-dir", tmp_path / name).exit_code == 0
    for file in ("index.html", "agreement-human.html", "matrix.csv", "codings.csv"):
        first = _strip_times((tmp_path / "a" / file).read_text())
        assert first == _strip_times((tmp_path / "b" / file).read_text()), file


def test_custom_templates_override_blocks(demo_run, tmp_path):
    templates = tmp_path / "brand"
    templates.mkdir()
    (templates / "report.html").write_text(
        '{% extends "report_base.html" %}'
        "{% block header %}<h1>Evaluation of the Four Sites, Acme Evaluators</h1>{% endblock %}"
        "{% block cooccurrence %}{% endblock %}"
    )
    qc = Qualcode(demo_run / "qualcode.db")
    result = qc("report", "--out-dir", tmp_path / "r", "--templates", templates)
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "index.html").read_text()
    assert "Acme Evaluators" in html
    assert 'id="cooccurrence"' not in html
    assert 'id="matrix"' in html
    bad = qc("report", "--out-dir", tmp_path / "x", "--templates", tmp_path / "missing")
    assert bad.exit_code == 1


def test_report_on_the_machine_codes(demo_run, tmp_path):
    qc = Qualcode(demo_run / "qualcode.db")
    result = qc("report", "--out-dir", tmp_path / "m", "--coder", "machine")
    assert result.exit_code == 0, result.output
    codings = list(csv.DictReader((tmp_path / "m" / "codings.csv").open(encoding="utf-8")))
    assert {r["coder"] for r in codings} == {"hybrid"}
    page = (tmp_path / "m" / "index.html").read_text()
    assert "the machine coder (machine = hybrid (run" in page
    # the shipped hybrid's out-of-domain figures, as measured, with the families to review
    expected = json.loads(EXPECTED_PATH.read_text())["devset"]["kappa"]
    assert "expected agreement</dt>" in page
    assert f"structural {expected['structural']:.2f}" in page
    assert "Review by hand the families under 0.6" in page
    # the gold-based report does not claim the machine's figures
    gold_page = (demo_run / "report" / "index.html").read_text()
    assert "expected agreement</dt>" not in gold_page


def test_docx_version(demo_run, tmp_path):
    from docx import Document

    qc = Qualcode(demo_run / "qualcode.db")
    assert qc("report", "--out-dir", tmp_path / "r", "--docx").exit_code == 0
    doc = Document(str(tmp_path / "r" / "report.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "Framework matrix (share of each site's segments)" in headings
    assert "Saltmere" in headings


def test_transcript_markup_is_escaped(qc, tmp_path):
    doc = tmp_path / "evil.txt"
    doc.write_text(
        "---\nsite: <b>Bold site</b>\nparticipant: ANN <img src=x onerror=alert(1)>\nrole: <i>chair</i>\n---\n"
        "Interviewer: What gets in the way?\n\n"
        "Ann: The <script>alert('x')</script> pooled budget & the "
        "trust never met; nobody shares records with the council.\n\n"
        "Interviewer: Anything else?\n\n"
        "Ann: The pooled budget <i>never</i> worked.\n",
        encoding="utf-8",
    )
    assert qc("ingest", doc).exit_code == 0
    assert qc("code", "--kind", "rules").exit_code == 0
    result = qc("report", "--out-dir", tmp_path / "r")
    assert result.exit_code == 0, result.output
    html = (tmp_path / "r" / "index.html").read_text()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>Bold site</b>" not in html
    assert "&lt;b&gt;Bold site&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;img src=x" in html


def test_no_quotes_leaves_every_quote_out(demo_run, tmp_path):
    project = demo_run / "qualcode.db"
    out = tmp_path / "board"
    result = CliRunner().invoke(
        cli, ["-p", str(project), "report", "--out-dir", str(out), "--no-quotes"]
    )
    assert result.exit_code == 0, result.output
    with open_project(project) as store:
        sentences = [
            r[0]
            for r in store.execute("SELECT text FROM segments WHERE is_interviewer = 0")
            if len(r[0]) > 60
        ]
    files = [p for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".csv", ".json")]
    assert {p.name for p in files} >= {"index.html", "codings.csv", "themes.csv"}
    body = "\n".join(html.unescape(p.read_text(encoding="utf-8")) for p in files)
    leaked = [s for s in sentences if s[:60] in body]
    assert leaked == []
    usual = "\n".join(
        html.unescape(p.read_text(encoding="utf-8")) for p in (demo_run / "report").glob("*.*")
    )
    assert [s for s in sentences if s[:60] in usual]  # the ordinary report does quote


def _demo_data(demo_run):
    from qualcode.coding.project import resolve_codebook
    from qualcode.report.data import build

    with open_project(demo_run / "qualcode.db") as store:
        return build(store, resolve_codebook(store))


def test_small_numbers_are_marked_and_never_showcased(demo_run):
    from qualcode.report.data import MIN_SEGMENTS

    data = _demo_data(demo_run)
    # the demo has codes raised on one to four segments at a site, so the rule has work to do
    small = [
        (c["id"], s) for c in data.codes for s in data.sites if 0 < data.matrix[c["id"]][s]["n"] < 5
    ]
    assert len(small) > 20
    shown = [c for s in data.sites for c in data.distinctive[s]]
    assert len(shown) >= 8
    assert min(c["n"] for c in shown) >= MIN_SEGMENTS
    ranked = [
        i for s in data.sites for k in ("strengths", "weaknesses") for i in data.side_by_side[s][k]
    ]
    assert min(i["n"] for i in ranked) >= MIN_SEGMENTS
    page = (demo_run / "report" / "index.html").read_text()
    assert f"fewer than {MIN_SEGMENTS} segments" in page  # the rule is stated on the page
    # the scorecard's words agree with its counts and its legend: "missing (1 vs 1)" was not
    cells = re.findall(r'<td class="state-([a-z-]+)">([a-z ]+?)(?: \((\d+) vs (\d+)\))?</td>', page)
    assert len(cells) == 4 * sum(1 for c in data.codes if c["polarity"] == "prerequisite")
    seen = set()
    for css, state, present, missing in cells:
        assert css == state.replace(" ", "-")
        p, m = int(present or 0), int(missing or 0)
        seen.add(state)
        if state in ("present", "missing", "mixed"):
            assert p + m >= MIN_SEGMENTS, (state, p, m)
        assert state != "present" or p > m
        assert state != "missing" or m > p
        assert state != "too little to say" or 0 < p + m < MIN_SEGMENTS
    assert {"present", "missing", "too little to say"} <= seen
    # a tier of three segments is greyed, not given the darkest colour (67% before)
    row = re.search(r'<tr><th scope="row">Saltmere: user <small class="few">.*?</tr>', page, re.S)
    assert row
    cells = re.findall(r"<td class=\"heat([^\"]*)\"([^>]*)>", row.group(0))
    assert len(cells) == 10
    assert all(css == " few" and "background" not in style for css, style in cells)


def test_at_a_glance_quotes_are_escaped_and_left_out_with_no_quotes(demo_run):
    from qualcode.report.site import render

    data = _demo_data(demo_run)
    site = data.sites[0]
    code = data.distinctive[site][0]["id"]
    data.quotes[(code, site)][0]["pieces"] = [
        ("<script>alert(1)</script> & ", False),
        ("<b>pooled</b>", True),
    ]
    page = render(data, themes=[], agreements=[], runs=[])
    glance = page[page.index('<section id="glance"') : page.index('<section id="overview"')]
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <mark>&lt;b&gt;pooled&lt;/b&gt;</mark>"
        in glance
    )
    assert "<script" not in page
    # every difference has its evidence beside it, a segment shown once per site
    findings = glance.split('<div class="finding">')[1:]
    assert len(findings) == sum(len(data.distinctive[s]) for s in data.sites)
    assert all("<blockquote>" in f for f in findings)
    quoted = re.findall(r"<blockquote>(.*?)</blockquote>", glance, re.S)
    assert len(quoted) == len(set(quoted))
    data.quotes = {}
    bare = render(data, themes=[], agreements=[], runs=[])
    glance = bare[bare.index('<section id="glance"') : bare.index('<section id="overview"')]
    assert '<div class="finding">' in glance
    assert "<blockquote>" not in glance


def test_audit_names_a_band_only_where_the_interval_lies_in_it(demo_run):
    from qualcode.report import landis_koch
    from qualcode.report.data import MIN_SEGMENTS

    checked = reasons = 0
    for path in sorted((demo_run / "agreement").glob("*.json")):
        page_path = demo_run / "report" / f"agreement-{path.stem}.html"
        if not page_path.exists():
            continue
        result = json.loads(path.read_text())
        page = page_path.read_text()
        kappa = "cohen_kappa" if len(result["coders"]) == 2 else "fleiss_kappa"
        for row in result["codes"]:
            cell = re.search(
                rf'<th scope="row">{re.escape(row["code"])}<br>.*?<td class="band-([a-z-]+)"[^>]*>([^<]*)</td>',
                page,
                re.S,
            )
            assert cell, row["code"]
            css, text = cell.groups()
            used = row["n_units"] - row["neither"]
            if css == "none":
                reasons += 1
                assert text.startswith(("interval spans", "too few", "no interval", "undefined"))
                continue
            low, high = row["kappa_ci"]
            assert landis_koch(low) == landis_koch(high) == text
            assert used >= MIN_SEGMENTS
            assert row[kappa] is not None
            checked += 1
        # no band for the pooled figure either unless its interval lies in one
        assert "in Landis and Koch's terms" in page or "no single Landis and Koch band" in page
    assert checked > 10
    assert reasons > 5


def _counted(demo_run, coder):
    """The report's data for ``coder``, and the same project's respondent segments with the
    coder's codes, read plainly, for counting again segment by segment."""
    from collections import defaultdict

    from qualcode.agreement.coders import resolve
    from qualcode.coding.project import resolve_codebook
    from qualcode.report.data import build, default_coder
    from qualcode.store.queries import respondent_units

    with open_project(demo_run / "qualcode.db") as store:
        book = resolve_codebook(store)
        data = build(store, book, coder)
        who = resolve(store, coder or default_coder(store))
        units = respondent_units(store)
        rows = store.execute(
            "SELECT c.id, c.segment_id, k.code, c.confidence FROM codings c"
            " JOIN codes k ON k.id = c.code_id JOIN coders x ON x.id = c.coder_id"
            " WHERE x.name = ? AND (? IS NULL OR c.run_id = ?) ORDER BY c.id",
            (who.name, who.run_id, who.run_id),
        ).fetchall()
    known = {c.id: c for c in book.codable}
    codings = defaultdict(list)
    for r in rows:
        if r["code"] in known:
            codings[r["segment_id"]].append(r)
    for u in units:
        u["site"] = u["site"] or "(no site)"
        u["person"] = u["participant"] or u["speaker"]
        u["codes"] = {c["code"] for c in codings[u["id"]]}
    assert len(rows) > 100
    assert data.sites == sorted({u["site"] for u in units})
    return data, units, codings, known


def _count(members, test):
    hits = [u for u in members if test(u)]
    return len(hits), len({u["person"] for u in hits})


@pytest.mark.parametrize("coder", [None, "coder-a"])
def test_the_shares_are_those_of_counting_every_segment(demo_run, coder):
    """The report's figures are grouped SQL queries, so that memory stays flat on a large
    consultation; here the matrix, scorecard and breakdowns are counted again in Python."""
    data, units, _, known = _counted(demo_run, coder)
    for site in data.sites:
        members = [u for u in units if u["site"] == site]
        assert data.segments_by_site[site] == len(members)
        for code in known:
            cell = data.matrix[code][site]
            assert (cell["n"], cell["people"]) == _count(members, lambda u, c=code: c in u["codes"])
            assert cell["of_people"] == len({u["person"] for u in members})
        for row in data.scorecard:
            missing = sum(1 for u in members if u["codes"] & set(row["barriers"]))
            assert row["cells"][site]["missing"] == missing
    checked = 0
    for key in ("tier", "stakeholder_group"):
        for row in data.breakdown[key]:
            members = [u for u in units if (u[key] or "(none)") == row["value"]]
            assert row["segments"] == len(members)
            for (family, polarity), cell in row["shares"].items():
                n, _ = _count(
                    members,
                    lambda u, f=family, p=polarity: any(
                        c.split(".")[0] == f and known[c].polarity == p for c in u["codes"]
                    ),
                )
                assert cell["n"] == n
                checked += n
    assert checked > 0


@pytest.mark.parametrize("coder", [None, "coder-a"])
def test_pairs_and_quotes_are_those_of_counting_every_segment(demo_run, coder):
    """Codes that come together, and the quotes chosen per code and site: strongest first,
    then short, then fewest other codes, then corpus order; one per person."""
    from itertools import combinations

    from qualcode.report.data import LONG_QUOTE, QUOTES_PER_CELL

    data, units, codings, _ = _counted(demo_run, coder)
    pairs = Counter(p for u in units for p in combinations(sorted(u["codes"]), 2))
    assert data.cooccurrence
    assert [r["n"] for r in data.cooccurrence] == sorted(
        (n for n in pairs.values() if n >= 5), reverse=True
    )[: len(data.cooccurrence)]
    for r in data.cooccurrence:
        assert pairs[(r["a"], r["b"])] == r["n"]
    by_id = {u["id"]: u for u in units}
    crowded = 0
    for (code, site), quotes in data.quotes.items():
        candidates = sorted(
            (-c["confidence"], (by_id[s]["words"] or 0) > LONG_QUOTE, len(by_id[s]["codes"]), s)
            for s, cs in codings.items()
            if s in by_id and by_id[s]["site"] == site
            for c in cs
            if c["code"] == code
        )
        chosen, people = [], set()
        for *_, segment in candidates:
            if by_id[segment]["person"] not in people:
                people.add(by_id[segment]["person"])
                chosen.append(segment)
        crowded += len(candidates) > len(chosen)
        assert [q["segment_id"] for q in quotes] == chosen[:QUOTES_PER_CELL]
    assert crowded  # some cells had two candidates from one person, which must not both show
