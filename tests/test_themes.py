"""`qualcode themes`: topics over real demo talk, offline, seeded, stored, exported."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from qualcode.codebook import parse_codebook
from qualcode.store import open_project
from qualcode.themes.quality import npmi_coherence, topic_diversity
from qualcode.themes.text import clean, proper_nouns, sentences
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory):
    """The demo corpus with its gold codings, themes not yet run."""
    from click.testing import CliRunner

    from qualcode.cli import cli

    path = tmp_path_factory.mktemp("themes") / "demo.db"
    runner = CliRunner()
    assert runner.invoke(cli, ["-p", str(path), "init"]).exit_code == 0
    assert runner.invoke(cli, ["-p", str(path), "ingest", str(CORPUS)]).exit_code == 0
    gold = CORPUS / "codings" / "gold.csv"
    result = runner.invoke(
        cli, ["-p", str(path), "codings", "import", str(gold), "--coder", "gold"]
    )
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def demo(demo_project, tmp_path):
    from tests.conftest import Qualcode

    copy = tmp_path / "demo.db"
    copy.write_bytes(demo_project.read_bytes())
    return Qualcode(copy)


def _topics(qc):
    with open_project(qc.project) as store:
        return [
            (r["topic"], r["size"], json.loads(r["keywords"]))
            for r in store.execute(
                "SELECT t.topic, t.size, t.keywords FROM topics t JOIN topic_models m"
                " ON m.id = t.model_id WHERE m.run_id = (SELECT max(id) FROM runs"
                " WHERE command = 'themes') ORDER BY t.topic"
            )
        ]


def test_themes_on_the_demo_corpus(demo):
    result = demo("themes")
    assert result.exit_code == 0, result.output
    assert "topics from 413 segments (tfidf+svd(" in result.output
    assert "coherence NPMI" in result.output
    topics = _topics(demo)
    assert 5 <= len(topics) <= 30
    assert sum(size for _, size, _ in topics) == 413  # k-means: every segment in a topic
    words = {w for _, _, kws in topics for w, _ in kws}
    assert not words & {"you know", "sort", "yeah", "brannock", "kestlow", "hollinsford"}
    # Planted themes the codebook does not name surface in the keywords: carers and the
    # voluntary sector being consulted, link workers, managers and leaders.
    assert {"carers", "voluntary sector"} <= words
    assert words & {"link", "link worker"}
    assert words & {"managers", "manager", "director"}


def test_the_same_seed_gives_the_same_topics(demo):
    assert demo("themes", "--seed", "3").exit_code == 0
    first = _topics(demo)
    assert demo("themes", "--seed", "3").exit_code == 0
    assert _topics(demo) == first


def test_show_quotes_whole_sentences_with_speaker_and_site(demo):
    assert demo("themes").exit_code == 0
    shown = demo("themes", "show", "0")
    assert shown.exit_code == 0, shown.output
    assert "Keywords:" in shown.output
    assert "By site:" in shown.output
    quotes = [line for line in shown.output.splitlines() if line.startswith('  "')]
    assert 3 <= len(quotes) <= 5
    with open_project(demo.project) as store:
        details = json.loads(
            store.execute("SELECT details FROM topics ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
        for q in details["quotes"]:
            text = store.execute(
                "SELECT text FROM segments WHERE id = ?", (q["segment_id"],)
            ).fetchone()[0]
            sentence = text[q["start"] : q["end"]]
            assert (q["start"], q["end"]) in sentences(text)
            assert sentence[-1] in ".!?\"'’”)" or q["end"] == len(text.rstrip())
    assert demo("themes", "show", "99").exit_code == 1


def test_by_site_models_each_site(demo):
    result = demo("themes", "--by", "site")
    assert result.exit_code == 0, result.output
    for site in ("Brannock", "Eddon Vale", "Hollinsford", "Saltmere"):
        assert f"site {site}: " in result.output
    assert demo("themes", "show", "Saltmere:0").exit_code == 0


def test_guided_labels_topics_with_codes(demo):
    result = demo("themes", "--guided")
    assert result.exit_code == 0, result.output
    with open_project(demo.project) as store:
        details = [
            json.loads(r[0])
            for r in store.execute(
                "SELECT details FROM topics t JOIN topic_models m ON m.id = t.model_id"
                " WHERE m.run_id = (SELECT max(id) FROM runs WHERE command = 'themes')"
            )
        ]
    assert any(d["matched_code"] for d in details)


def test_suggest_codes_writes_a_fragment_that_validates(demo, tmp_path):
    assert demo("themes").exit_code == 0
    out = tmp_path / "emergent.yaml"
    result = demo("themes", "suggest-codes", "-o", out)
    assert result.exit_code == 0, result.output
    fragment = yaml.safe_load(out.read_text())
    emergent = [c for c in fragment["codes"] if c["id"].startswith("emergent.")]
    assert emergent
    for code in emergent:
        assert 1 <= len(code["examples"]) <= 3
    book = parse_codebook(
        out.read_text().replace("codes:", "name: emergent candidates\ncodes:", 1),
        tmp_path / "x.yaml",
    )
    assert {c.id for c in book.codable} == {c["id"] for c in emergent}


def test_export_csv_and_json(demo, tmp_path):
    assert demo("themes").exit_code == 0
    csv_path, json_path = tmp_path / "t.csv", tmp_path / "t.json"
    assert demo("themes", "export", "-o", csv_path).exit_code == 0
    assert demo("themes", "export", "--format", "json", "-o", json_path).exit_code == 0
    rows = list(csv.DictReader(csv_path.open()))
    data = json.loads(json_path.read_text())
    assert len(rows) == len(data) == len(_topics(demo))
    assert all(json.loads(r["keywords"]) for r in rows)
    assert {"sites", "stakeholder_groups", "tiers", "quotes", "emergent"} <= set(data[0])


def test_thirty_segments_work(qc, tmp_path):
    rows = list(csv.DictReader((CORPUS / "survey" / "stakeholder-survey.csv").open()))
    keep = [r for r in rows if len(r["response"].split()) > 8][:30]
    path = tmp_path / "small.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(keep)
    assert qc("ingest", path, "--text-column", "response").exit_code == 0
    result = qc("themes")
    assert result.exit_code == 0, result.output
    assert "from 30 segments" in result.output
    assert "k-means(k=" in result.output
    assert "no coder" in result.output  # nothing coded yet: topics are not judged


def test_a_missing_sentence_transformers_model_is_a_clear_error(demo, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(demo.project.parent / "empty-hf-home"))
    result = demo("themes", "--embedding", "sentence-transformers:no-such/model-here")
    assert result.exit_code == 1
    assert "is not installed on this machine" in result.output
    assert "never downloads" in result.output


def test_too_few_segments_and_bad_options(qc, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("id,response\n1,The pooled budget worked.\n2,Nobody shared the records.\n")
    assert qc("ingest", path, "--text-column", "response").exit_code == 0
    result = qc("themes")
    assert result.exit_code == 1
    assert "too few" in result.output
    assert qc("themes", "--embedding", "word2vec").exit_code != 0


def test_text_helpers():
    assert clean("Well, you know, the budget [laughs] was sort of pooled, I mean.") == (
        "Well, , the budget was pooled, ."
    )
    assert proper_nouns(["We met at Pellow House. The trust and the Trust agreed."]) == {
        "pellow",
        "house",
    }
    text = "First one. Second one? Third"
    assert [text[a:b] for a, b in sentences(text)] == ["First one.", "Second one?", "Third"]


def test_npmi_and_diversity_by_hand():
    docs = ["budget pool money", "budget pool", "trust culture", "trust culture nurses"]
    # budget and pool always together: NPMI 1; budget and trust never: -1.
    assert npmi_coherence([["budget", "pool"]], docs) == pytest.approx(1.0)
    assert npmi_coherence([["budget", "trust"]], docs) == pytest.approx(-1.0)
    # p(trust)=1/2, p(nurses)=1/4, p(both)=1/4: log(2)/log(4) = 0.5
    assert npmi_coherence([["trust", "nurses"]], docs) == pytest.approx(0.5)
    assert topic_diversity([["a", "b"], ["b", "c"]]) == pytest.approx(0.75)


def test_umap_and_hdbscan_path_is_seeded_too(demo, monkeypatch):
    """Large corpora take UMAP + HDBSCAN; lower the bar so the demo corpus takes that path."""
    monkeypatch.setattr("qualcode.themes.model.UMAP_MIN_DOCUMENTS", 200)
    first = demo("themes", "--seed", "5", "--min-topic-size", "10")
    assert first.exit_code == 0, first.output
    assert "UMAP(5, cosine" in first.output
    assert "HDBSCAN(min_cluster_size=10)" in first.output
    topics = _topics(demo)
    assert topics
    assert demo("themes", "--seed", "5", "--min-topic-size", "10").exit_code == 0
    assert _topics(demo) == topics
