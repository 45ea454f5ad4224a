"""The shipped demo corpus is what the product card promises, read through qualcode itself."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict

import pytest

from qualcode.ingest import ingest
from qualcode.store import create_project
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = create_project(tmp_path_factory.mktemp("demo") / "demo.db")
    report = ingest(store, [CORPUS])
    yield store, report
    store.close()


def test_everything_in_the_manifest_is_ingested(demo):
    store, report = demo
    assert report.refused == []
    assert report.skipped == []
    formats = Counter(
        r[0] for r in store.execute("SELECT format FROM documents WHERE format != 'csv'")
    )
    assert formats["docx"] >= 2
    assert formats["vtt"] >= 2
    assert formats["txt"] > formats["docx"] + formats["vtt"]
    assert sum(formats.values()) >= 24


def test_four_sites_with_six_interviews_of_1200_words(demo):
    store, _ = demo
    words = defaultdict(dict)
    for r in store.execute(
        "SELECT d.site, d.path, sum(s.words) FROM documents d JOIN segments s ON s.document_id = d.id"
        " WHERE d.format != 'csv' AND s.is_interviewer = 0 GROUP BY d.id"
    ):
        words[r[0]][r[1]] = r[2]
    assert set(words) == {"Hollinsford", "Brannock", "Saltmere", "Eddon Vale"}
    for site, docs in words.items():
        assert len(docs) >= 6, site
        assert min(docs.values()) >= 1200, (site, docs)


def test_stakeholder_mix_per_site(demo):
    store, _ = demo
    tiers = defaultdict(set)
    for site, tier in store.execute(
        "SELECT p.site, p.tier FROM participants p JOIN documents d ON d.participant_id = p.id"
        " WHERE d.format != 'csv'"
    ):
        tiers[site].add(tier)
    for site, found in tiers.items():
        assert {"strategic", "frontline"} <= found, site


def test_interviewer_turns_are_flagged_and_respondents_linked(demo):
    store, _ = demo
    unlinked = store.execute(
        "SELECT count(*) FROM segments s JOIN documents d ON d.id = s.document_id"
        " WHERE d.format != 'csv' AND s.is_interviewer = 0 AND s.participant_id IS NULL"
    ).fetchone()[0]
    assert unlinked == 0
    interviewer = store.execute(
        "SELECT count(*) FROM segments WHERE is_interviewer = 1"
    ).fetchone()[0]
    assert interviewer > 25 * 10


def test_survey_has_about_sixty_responses_across_sites():
    with (CORPUS / "survey" / "stakeholder-survey.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert 55 <= len(rows) <= 65
    assert len({r["site"] for r in rows}) == 4


def test_readme_says_fictional():
    assert "invented" in (CORPUS / "README.md").read_text().lower()
