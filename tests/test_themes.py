"""`qualcode themes`: topics over real demo talk, offline, seeded, stored, exported."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from qualcode.codebook import load_stored_codebook, parse_codebook
from qualcode.store import open_project
from qualcode.store import queries as q
from qualcode.themes import Options
from qualcode.themes.discover import codebook_fit, embed_units, reference_codes
from qualcode.themes.emergent import CodebookFit, judge
from qualcode.themes.labels import LABEL_STOP_WORDS, label_terms
from qualcode.themes.quality import npmi_coherence, topic_diversity
from qualcode.themes.text import STOP_WORDS, clean, proper_nouns, sentences
from tests.conftest import CORPUS, REPO


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
    result = demo("themes", "fit")
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
    assert demo("themes", "fit", "--seed", "3").exit_code == 0
    first = _topics(demo)
    assert demo("themes", "fit", "--seed", "3").exit_code == 0
    assert _topics(demo) == first


def test_show_quotes_whole_sentences_with_speaker_and_site(demo):
    assert demo("themes", "fit").exit_code == 0
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
    result = demo("themes", "fit", "--by", "site")
    assert result.exit_code == 0, result.output
    for site in ("Brannock", "Eddon Vale", "Hollinsford", "Saltmere"):
        assert f"site {site}: " in result.output
    assert demo("themes", "show", "Saltmere:0").exit_code == 0


def test_guided_labels_topics_with_codes(demo):
    result = demo("themes", "fit", "--guided")
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
    assert demo("themes", "fit").exit_code == 0
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
    assert demo("themes", "fit").exit_code == 0
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
    result = qc("themes", "fit")
    assert result.exit_code == 0, result.output
    assert "from 30 segments" in result.output
    assert "k-means(k=" in result.output
    assert "no coder" in result.output  # nothing coded yet: topics are not judged


def test_a_missing_sentence_transformers_model_is_a_clear_error(demo, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(demo.project.parent / "empty-hf-home"))
    result = demo("themes", "fit", "--embedding", "sentence-transformers:no-such/model-here")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    if importlib.util.find_spec("sentence_transformers") is None:
        # the default install: sentence-transformers comes with qualcode[embeddings]
        assert "sentence-transformers is not installed" in result.output
        assert "qualcode[embeddings]" in result.output
    else:
        assert "is not installed on this machine" in result.output
        assert "never downloads" in result.output


def test_too_few_segments_and_bad_options(qc, tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("id,response\n1,The pooled budget worked.\n2,Nobody shared the records.\n")
    assert qc("ingest", path, "--text-column", "response").exit_code == 0
    result = qc("themes", "fit")
    assert result.exit_code == 1
    assert "too few" in result.output
    assert qc("themes", "fit", "--embedding", "word2vec").exit_code != 0


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


def test_npmi_counted_a_chunk_at_a_time_is_npmi_over_all(demo_project):
    """Themes count NPMI's document frequencies as the segments pass (``Cooccurrence``); in
    chunks of any size the figure is the one counted over all the demo's talk at once."""
    from qualcode.themes.quality import Cooccurrence

    with open_project(demo_project) as store:
        docs = [clean(u["text"]) for u in q.respondent_units(store)]
    topics = [["budget", "pooled", "money"], ["trust", "nurses", "social care"], ["carers", "gp"]]
    whole = npmi_coherence(topics, docs)
    assert whole is not None
    for size in (1, 37, 1000):
        counts = Cooccurrence(w for t in topics for w in t)
        for at in range(0, len(docs), size):
            counts.add(docs[at : at + size])
        assert counts.npmi(topics) == whole
        assert counts.npmi([topics[1]]) == npmi_coherence([topics[1]], docs)


def test_reference_codes_are_each_segments_codes(demo_project, tmp_path):
    """The compact codes-per-segment (two arrays and the distinct sets) read as the dict it
    replaced, for a human coder and for a machine run: examined segments with no code map to
    an empty set, segments never examined are absent."""
    project = tmp_path / "demo.db"
    project.write_bytes(demo_project.read_bytes())
    from click.testing import CliRunner

    from qualcode.cli import cli

    coded = CliRunner().invoke(cli, ["-p", str(project), "code", "--kind", "rules"])
    assert coded.exit_code == 0, coded.output
    with open_project(project) as store:
        for coder, run in (("gold", False), ("rules", True)):
            name, codes = reference_codes(store, coder)
            row = store.execute(
                "SELECT coder_id, max(run_id) FROM coded_segments WHERE coder_id ="
                " (SELECT id FROM coders WHERE name = ?)",
                (coder,),
            ).fetchone()
            where = " AND run_id = ?" if run else ""
            args = (row[0], row[1]) if run else (row[0],)
            expected = {
                r[0]: set()
                for r in store.execute(
                    "SELECT segment_id FROM coded_segments WHERE coder_id = ?" + where, args
                )
            }
            for seg, code in store.execute(
                "SELECT c.segment_id, k.code FROM codings c JOIN codes k ON k.id = c.code_id"
                " WHERE c.coder_id = ?" + where,
                args,
            ):
                expected.setdefault(seg, set()).add(code)
            assert {seg: set(codes[seg]) for seg in codes} == expected
            assert any(expected.values())
            assert not all(expected.values())
            assert len(codes) == len(expected)
            absent = max(expected) + 1
            assert absent not in codes
            assert codes.get(absent) is None
            ids = [*sorted(expected)[:5], absent]
            assert codes.lookup(ids) == [*(frozenset(expected[i]) for i in ids[:5]), None]
            assert name == f"rules (run {row[1]})" if run else name == "gold"


def test_umap_and_hdbscan_path_is_seeded_too(demo, monkeypatch):
    """Large corpora take UMAP + HDBSCAN; lower the bar so the demo corpus takes that path."""
    monkeypatch.setattr("qualcode.themes.model.UMAP_MIN_DOCUMENTS", 200)
    first = demo("themes", "fit", "--seed", "5", "--min-topic-size", "10")
    assert first.exit_code == 0, first.output
    assert "UMAP(5, cosine" in first.output
    assert "HDBSCAN(min_cluster_size=10)" in first.output
    topics = _topics(demo)
    assert topics
    assert demo("themes", "fit", "--seed", "5", "--min-topic-size", "10").exit_code == 0
    assert _topics(demo) == topics


# -- the emergent flag ----------------------------------------------------------------------

LINK_WORKER = re.compile(r"\blink worker|\bliaison\b", re.IGNORECASE)  # a planted theme


def _segments_and_codes(project):
    with open_project(project) as store:
        units = q.respondent_units(store, None)
        _, codes = reference_codes(store, "gold")
        book = load_stored_codebook(store)
    return units, codes, book


def _coverage(ids, codes):
    coded = [codes[i] for i in ids if i in codes]
    return sum(1 for c in coded if c) / len(coded)


def test_the_flag_picks_out_planted_talk_and_not_a_codebook_theme(demo_project):
    """A topic made of the demo's overloaded-link-worker talk (a planted theme the codebook does
    not name; coders gave it boundary spanners) is flagged because it sits far from the
    codebook's words; one made of the segments gold-coded for disputed legitimacy is not."""
    units, codes, book = _segments_and_codes(demo_project)
    _, _, (vectors, embedder, _) = embed_units(units, Options())
    fit = codebook_fit(vectors, embedder, book)
    planted = [i for i, u in enumerate(units) if LINK_WORKER.search(u["text"])]
    coded = [i for i, u in enumerate(units) if "status.legitimacy_dispute" in codes[u["id"]]]
    assert len(planted) >= 5
    assert len(coded) >= 5
    planted_cover = _coverage([units[i]["id"] for i in planted], codes)
    assert planted_cover >= 0.5  # coders coded it, so coverage alone would not flag it
    assert fit.topic(planted) < fit.corpus < fit.topic(coded)
    assert judge(fit.topic(planted), fit.corpus, planted_cover)[0]
    emergent, reason = judge(fit.topic(coded), fit.corpus, 1.0, fit.nearest_code(coded))
    assert not emergent
    assert fit.nearest_code(coded).startswith("status.")
    assert "codebook fit" in reason


def test_on_the_demo_the_flag_is_selective(demo):
    """Fewer than half the topics are flagged (it was 10 of 14); the topic holding most of the
    link-worker talk is flagged and the one holding most of the disputed-legitimacy talk is not."""
    assert demo("themes", "fit").exit_code == 0
    units, codes, _ = _segments_and_codes(demo.project)
    link = {u["id"] for u in units if LINK_WORKER.search(u["text"])}
    legit = {u["id"] for u in units if "status.legitimacy_dispute" in codes[u["id"]]}
    with open_project(demo.project) as store:
        rows = store.execute(
            "SELECT t.id, t.emergent, t.details FROM topics t JOIN topic_models m"
            " ON m.id = t.model_id WHERE m.run_id = (SELECT max(id) FROM runs"
            " WHERE command = 'themes')"
        ).fetchall()
        members = {
            r["id"]: {
                s[0]
                for s in store.execute(
                    "SELECT segment_id FROM topic_segments WHERE topic_id = ?", (r["id"],)
                )
            }
            for r in rows
        }
    flags = {r["id"]: bool(r["emergent"]) for r in rows}
    assert 1 <= sum(flags.values()) < len(flags) / 2
    assert flags[max(members, key=lambda t: len(members[t] & link))]
    assert not flags[max(members, key=lambda t: len(members[t] & legit))]
    for r in rows:
        details = json.loads(r["details"])
        assert details["nearest_code"]
        assert details["codebook_fit"] > 0
        if not r["emergent"]:
            assert details["codebook_fit"] >= 1
            assert details["coverage"] >= 0.5
            assert details["reason"].startswith("close to the codebook")


def test_judge_and_codebook_fit_by_hand():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    fit = CodebookFit.of(vectors, np.array([[2.0, 0.0]]), ["a.code"])
    assert fit.per_segment == pytest.approx([1.0, 0.0, 2**-0.5])
    assert fit.topic([1]) < fit.corpus < fit.topic([0])
    assert fit.nearest_code([0, 2]) == "a.code"
    flagged, reason = judge(0.2, 0.4, 0.9)
    assert flagged
    assert "0.50 of the corpus" in reason
    flagged, reason = judge(0.5, 0.4, 0.3)
    assert flagged
    assert "only 30%" in reason
    assert not judge(0.5, 0.4, None)[0]  # no codings: judged on the fit alone
    flagged, reason = judge(0.5, 0.4, 0.9, "a.code")
    assert not flagged
    assert "1.25 of the corpus" in reason
    assert "a.code" in reason


# -- labels ---------------------------------------------------------------------------------


def test_label_terms_drop_stop_words_repeats_and_unsaid_pairs():
    said = ["The nurses, social workers and the joint training; a learning disability nurse."]
    words = [
        "love",
        "social workers",
        "workers",
        "social",
        "nurses social",
        "disability",
        "learning disability",
        "she'd",
        "joint training",
    ]
    assert label_terms(words, 5, texts=said) == [
        "social workers",
        "learning disability",
        "joint training",
    ]
    assert label_terms(["practices", "practice", "people", "older people"]) == [
        "practices",
        "older people",
    ]
    assert label_terms(["oh", "you know"]) == []


def test_demo_labels_are_readable(demo):
    assert demo("themes", "fit").exit_code == 0
    with open_project(demo.project) as store:
        method = json.loads(store.execute("SELECT method FROM topic_models").fetchone()[0])
        labels = [r[0] for r in store.execute("SELECT label FROM topics")]
    assert method["representation"] == "keybert"
    assert method["label_npmi"] is not None
    assert 0 < method["label_diversity"] <= 1
    assert len(set(labels)) == len(labels)
    stop = set(STOP_WORDS) | LABEL_STOP_WORDS
    for label in labels:
        terms = label.split(", ")
        assert 1 <= len(terms) <= 3
        words = [w for term in terms for w in term.split()]
        assert not set(words) & stop, label
        assert len({w.rstrip("s") for w in words}) == len(words), label


def test_the_default_path_needs_neither_torch_nor_sentence_transformers(demo_project, tmp_path):
    """With torch, transformers and sentence-transformers made unimportable, `themes` on the
    survey still fits, labels and flags topics."""
    project = tmp_path / "survey.db"
    script = f"""
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in {{"torch", "transformers", "sentence_transformers"}}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Missing())
from click.testing import CliRunner
from qualcode.cli import cli
runner = CliRunner()
for argv in (["init"], ["ingest", {str(CORPUS / "survey" / "stakeholder-survey.csv")!r},
             "--text-column", "response"], ["themes", "fit"]):
    result = runner.invoke(cli, ["-p", {str(project)!r}, *argv])
    assert result.exit_code == 0, result.output
assert not {{"torch", "sentence_transformers"}} & set(sys.modules)
print(result.output)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "topics from" in done.stdout


def test_online_fit_chunk_by_chunk_gives_every_segment_a_topic(demo, monkeypatch):
    """`themes fit --online`: BERTopic's partial_fit on chunks (100 here, so the demo's 413
    segments come in four), every segment then assigned; seeded; not with --guided."""
    from qualcode.themes import model as themes_model

    monkeypatch.setattr(themes_model, "ONLINE_CHUNK", 100)
    assert themes_model.chunks(413) == [(0, 100), (100, 200), (200, 300), (300, 413)]
    result = demo("themes", "fit", "--online", "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "MiniBatchKMeans(k=10), online; 0 outliers left" in result.output
    topics = _topics(demo)
    assert 5 <= len(topics) <= 10  # ten clusters; one may be left with no segment
    assert sum(size for _, size, _ in topics) == 413
    words = {w for _, _, kws in topics for w, _ in kws}
    assert words & {"carers", "carer"}
    assert not words & {"brannock", "kestlow", "hollinsford"}  # the corpus's proper nouns
    with open_project(demo.project) as store:
        method = json.loads(
            store.execute("SELECT method FROM topic_models ORDER BY id DESC LIMIT 1").fetchone()[0]
        )
    assert method["online"] == {"chunk": 100, "embedding_fitted_on": 413}
    assert demo("themes", "fit", "--online", "--seed", "3").exit_code == 0
    assert _topics(demo) == topics
    refused = demo("themes", "fit", "--online", "--guided")
    assert refused.exit_code == 2
    assert "--online cannot be used with --guided" in refused.output
    # the library refuses the same options, before it reads or writes anything
    from qualcode.codebook import default_codebook_path, load_codebook
    from qualcode.errors import InputError
    from qualcode.themes.discover import Options, discover

    with open_project(demo.project) as store:
        runs = store.execute("SELECT count(*) FROM runs").fetchone()[0]
        for options in (Options(online=True, guided=True), Options(online=True, min_topic_size=5)):
            with pytest.raises(InputError, match="--online cannot be used with"):
                discover(store, load_codebook(default_codebook_path()), options)
        assert store.execute("SELECT count(*) FROM runs").fetchone()[0] == runs


def test_online_chunks_join_a_short_tail():
    from qualcode.themes.model import chunks, online_topics

    assert chunks(24_000) == [(0, 10_000), (10_000, 24_000)]
    assert chunks(25_000) == [(0, 10_000), (10_000, 20_000), (20_000, 25_000)]
    assert chunks(5) == [(0, 5)]
    assert [online_topics(n) for n in (30, 413, 125_000, 500_000)] == [10, 10, 56, 60]


# qualcode's command line with online chunks of 100 segments, so the demo comes in five
SMALL_CHUNKS = (
    "import sys; from qualcode.themes import model; model.ONLINE_CHUNK = 100;"
    " from qualcode.cli import cli; cli.main(sys.argv[1:])"
)


@pytest.mark.parametrize("fit", [["--by", "site"], ["--online"]])
def test_topics_and_their_codes_are_the_same_in_any_process(demo_project, tmp_path, fit):
    """Two processes with different string hashing give the same export: a topic's commonest
    codes are ranked by count, then code id, not in the order a set happens to hold them; an
    online fit numbers each chunk's new words in sorted order, not a set's (its keywords'
    ties came out in a different order in each process)."""
    import os
    import subprocess
    import sys

    exports = []
    for seed in ("1", "2"):
        project = tmp_path / f"demo-{seed}.db"
        project.write_bytes(demo_project.read_bytes())
        env = dict(os.environ, PYTHONHASHSEED=seed)
        for args in (["themes", "fit", *fit], ["themes", "export", "--format", "json"]):
            done = subprocess.run(
                [sys.executable, "-c", SMALL_CHUNKS, "-p", str(project), *args],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        exports.append(json.loads(done.stdout))
    assert exports[0] == exports[1]
    if fit == ["--online"]:
        return
    ties = 0
    for topic in exports[0]:
        shares = [share for _, share in topic["top_codes"]]
        assert shares == sorted(shares, reverse=True)
        for (a, x), (b, y) in zip(topic["top_codes"], topic["top_codes"][1:], strict=False):
            if x == y:
                ties += 1
                assert a < b
    assert ties  # the demo has tied codes, so the rule was needed
