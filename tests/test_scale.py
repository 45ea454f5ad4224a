"""Scale paths on real data: ingest written in chunks, themes fitted on a sample.

No timing here: benchmarks/growth.py and benchmarks/themes_speed.py measure; these tests check
that the fast paths give the same store, and a complete assignment, as the slow ones.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from qualcode.coding.project import import_codings, resolve_codebook
from qualcode.ingest import ingest, read_documents
from qualcode.store import create_project, open_project
from qualcode.store import queries as q
from qualcode.themes import Options, discover
from qualcode.themes.discover import sample_size
from qualcode.types import Participant
from tests.conftest import CORPUS

TABLES = {
    "participants": "*",
    "documents": "path, source, sha256, format, site, participant_id, wave, interview_date,"
    " consent, text, metadata",
    "segments": "*",
}


def _rows(path: Path) -> dict[str, list[tuple]]:
    with open_project(path) as store:
        return {
            t: [tuple(r) for r in store.execute(f"SELECT {c} FROM {t} ORDER BY id")]
            for t, c in TABLES.items()
        }


def _store(path: Path):
    return open_project(path) if path.exists() else create_project(path)


def _ingest(path: Path, sources, **kw) -> None:
    with _store(path) as store:
        ingest(store, sources, **kw)


def _survey(path: Path) -> Path:
    """The demo's respondent talk as a survey whose participant column repeats pseudonyms, so
    that a chunk meets people already stored and people twice within itself."""
    rows = []
    for doc in read_documents([CORPUS]):
        for seg in doc.segments:
            if not seg.is_interviewer:
                rows.append((len(rows), seg.participant or "", doc.metadata.get("site"), seg.text))
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "participant", "site", "response"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("chunk", [1, 7, 10**9])
def test_chunked_ingest_writes_the_store_of_one_write_per_document(tmp_path, chunk):
    survey = _survey(tmp_path / "survey.csv")
    _ingest(tmp_path / "chunked.db", [CORPUS], chunk=chunk)
    _ingest(tmp_path / "chunked.db", [survey], chunk=chunk, id_column="id")
    # The reference: every document written on its own by the store's own queries, as ingest
    # did before it wrote in chunks.
    reference = tmp_path / "reference.db"
    _ingest(tmp_path / "sites-only.db", [CORPUS])
    with _store(reference) as store, store.atomic():
        run = q.start_run(store, "ingest", {})
        with open_project(tmp_path / "sites-only.db") as other:
            sites = dict(other.execute("SELECT path, site FROM documents").fetchall())
        docs = read_documents([CORPUS])
        for doc in docs:
            _write_one(store, doc, doc.source, sites[doc.path], run)
    chunked = _rows(tmp_path / "chunked.db")
    expected = _rows(reference)
    n = len(expected["documents"])
    assert n == 87
    for table in TABLES:
        head = chunked[table][: len(expected[table])]
        assert head == expected[table], table
    # The survey's responses follow, one document and one segment each, every one of them
    # attached to the participant its row names.
    survey_docs = chunked["documents"][n:]
    assert len(survey_docs) == len(chunked["segments"]) - len(expected["segments"]) > 400
    with open_project(tmp_path / "chunked.db") as store:
        wrong = store.execute(
            "SELECT count(*) FROM segments s JOIN documents d ON d.id = s.document_id"
            " JOIN participants p ON p.id = s.participant_id"
            " WHERE d.format = 'csv' AND p.pseudonym != json_extract(d.metadata, '$.participant')"
        ).fetchone()[0]
        assert wrong == 0


def _write_one(store, doc, origin, site, run) -> None:
    meta = doc.metadata
    main = meta.get("participant") or None
    people = {s.participant for s in doc.segments if s.participant} | ({main} if main else set())
    ids = {}
    for pseudonym in sorted(people):
        person = Participant(pseudonym=pseudonym, site=site)
        if pseudonym == main:
            for f in ("stakeholder_group", "role", "organisation", "tier"):
                setattr(person, f, meta.get(f) or None)
        ids[pseudonym] = q.upsert_participant(store, person, origin=origin)
    from qualcode.ingest.pipeline import _sha256

    q.insert_document(
        store,
        doc,
        sha256=_sha256(Path(doc.source)),
        site=site,
        participant_ids=ids,
        document_participant=main,
        run_id=run,
    )


def test_a_bad_row_late_in_a_survey_leaves_the_project_as_it_was(tmp_path):
    survey = tmp_path / "survey.csv"
    rows = [f"R{i},{'fine words here ' * 3}" for i in range(12_000)] + ["R5,repeated id"]
    survey.write_text("id,response\n" + "\n".join(rows) + "\n", encoding="utf-8")
    path = tmp_path / "p.db"
    _ingest(path, [CORPUS])
    before = _rows(path)
    with pytest.raises(Exception, match="repeats line"):
        _ingest(path, [survey], id_column="id")  # two chunks written before the bad row
    assert _rows(path) == before


def test_sample_size_is_automatic_above_the_threshold_and_can_be_set():
    assert sample_size(100_000, None) is None
    assert sample_size(100_001, None) == 50_000
    assert sample_size(500, 200) == 200
    assert sample_size(500, 0) is None
    assert sample_size(500, 800) is None


def test_a_sample_fit_puts_every_segment_in_one_topic_or_among_the_outliers(tmp_path):
    path = tmp_path / "p.db"
    _ingest(path, [CORPUS])
    with open_project(path) as store:
        book = resolve_codebook(store)
        run = discover(store, book, Options(sample=200, seed=3))
        again = discover(store, book, Options(sample=200, seed=3))
        units = {u["id"] for u in q.respondent_units(store)}
    (group,) = run.groups
    assert group.n_segments == len(units) == 413
    assert group.method["sample"] == 200
    assert group.method["assigned"] == 213
    members = [s for t in group.topics for s in t.segment_ids]
    assert len(members) == len(set(members))  # no segment in two topics
    assert set(members) <= units
    assert len(members) + group.outliers == len(units)
    assert len(group.topics) >= 2
    assert [t.segment_ids for t in again.groups[0].topics] == [t.segment_ids for t in group.topics]
    assert group.npmi is not None
    assert 0 < group.diversity <= 1


def _dump_codings(path: Path) -> list[tuple]:
    with open_project(path) as store:
        return [
            tuple(r)
            for r in store.execute(
                "SELECT segment_id, code_id, confidence, evidence FROM codings ORDER BY id"
            )
        ] + [tuple(r) for r in store.execute("SELECT * FROM coded_segments ORDER BY segment_id")]


def test_coding_in_chunks_writes_what_coding_at_once_writes(tmp_path, monkeypatch):
    from qualcode.coding import project as coding
    from qualcode.coding.rules import RuleCoder

    predict = RuleCoder.predict
    batches: list[int] = []

    def counted(self, texts, progress=None):
        batches.append(len(texts))
        return predict(self, texts, progress=progress)

    monkeypatch.setattr(RuleCoder, "predict", counted)
    for name, chunk in [("once.db", 10**9), ("chunked.db", 100)]:
        monkeypatch.setattr(coding, "CODE_CHUNK", chunk)
        batches.clear()
        _ingest(tmp_path / name, [CORPUS])
        with open_project(tmp_path / name) as store:
            report = coding.code_project(store, kind="rules", codebook=resolve_codebook(store))
        assert report.segments == sum(batches) == 413
        assert batches == ([413] if chunk > 413 else [100, 100, 100, 100, 13])
    once = _dump_codings(tmp_path / "once.db")
    assert len(once) > 413 + 300  # every segment marked coded, and the codings
    assert _dump_codings(tmp_path / "chunked.db") == once


def test_a_failure_in_a_late_chunk_leaves_the_project_as_it_was(tmp_path, monkeypatch):
    from qualcode.coding import project as coding
    from qualcode.coding.rules import RuleCoder

    path = tmp_path / "p.db"
    _ingest(path, [CORPUS])
    before = _rows(path), _dump_codings(path)
    predict = RuleCoder.predict
    seen = []

    def fails_third_time(self, texts, progress=None):
        seen.append(len(texts))
        if len(seen) == 3:
            raise RuntimeError("worker lost")
        return predict(self, texts, progress=progress)

    monkeypatch.setattr(RuleCoder, "predict", fails_third_time)
    monkeypatch.setattr(coding, "CODE_CHUNK", 100)
    with open_project(path) as store, pytest.raises(RuntimeError, match="worker lost"):
        coding.code_project(store, kind="rules", codebook=resolve_codebook(store))
    assert seen == [100, 100, 100]  # two chunks were written before the third failed
    assert (_rows(path), _dump_codings(path)) == before
    with open_project(path) as store:
        assert store.execute("SELECT count(*) FROM runs WHERE command = 'code'").fetchone()[0] == 0


def test_ngrams_counted_per_sentence_are_the_pieces_own(tmp_path):
    """The model coder counts word and character n-grams once per sentence and sums them into
    the pieces it scores (whole answer, sentences, pairs), adding the word bigrams that join
    sentences: the features are the ones TfidfVectorizer gives each piece."""
    import numpy as np

    from qualcode.coding.model import ModelCoder, _join_matrix, _windows_of_sentences
    from qualcode.coding.training import default_units

    with _store(tmp_path / "p.db") as store:
        book = resolve_codebook(store)
    units = default_units(book)
    coder = ModelCoder(book).fit(units.texts[:600], units.labels[:600])
    texts = [s.text for d in read_documents([CORPUS]) for s in d.segments][:300]
    texts += units.texts[-200:]  # the training prose: longer sentences, published register
    texts += [
        "We never agreed. Not once! The budget was not pooled? No.",
        "A sentence. \u2026 Another one, not shared.",  # a sentence without a token
        "Trailing space.   ",
        "",
    ]
    pieces, sentences, parts = [], [], []
    for text in texts:
        windows, (own, spans) = _windows_of_sentences(text, len(sentences))
        pieces += windows
        sentences += own
        parts += spans
    assert len(pieces) > 2 * len(texts)  # many answers have several sentences
    join = _join_matrix(parts, len(sentences))
    for expected, summed in [
        (coder.char_.transform(pieces), coder._char_features(sentences, join)),
        (coder.word_.transform(pieces), coder._word_features(sentences, parts, join)),
    ]:
        assert summed.shape == expected.shape
        assert expected.nnz > 10 * len(texts)
        assert np.abs((summed - expected).toarray()).max() < 1e-12


def test_a_sample_fit_reads_the_other_segments_a_chunk_at_a_time(tmp_path, monkeypatch):
    """Fitted on 100 of the demo's 413 segments, the other 313 read from the store 50 at a time:
    never more than the sample and two chunks are held. Each topic's counts are still over all
    its members (its spread, coded share and commonest codes), and its quotes come from the
    segments the model was fitted on."""
    import importlib

    from qualcode.themes import segments

    disc = importlib.import_module("qualcode.themes.discover")

    path = tmp_path / "p.db"
    _ingest(path, [CORPUS])
    with open_project(path) as store:
        import_codings(store, CORPUS / "codings" / "gold.csv", "gold", resolve_codebook(store))
    live = [0, 0]  # Units held now, and the most at once

    class Counted(segments.Unit):
        def __init__(self, row, shared):
            super().__init__(row, shared)
            live[0] += 1
            live[1] = max(live)

        def __del__(self):
            live[0] -= 1

    fitted: set[int] = set()
    group_init = disc._Group.__init__

    def remember(self, *args):
        group_init(self, *args)
        fitted.update(u["id"] for u in self.units)

    monkeypatch.setattr(segments, "Unit", Counted)
    monkeypatch.setattr(disc._Group, "__init__", remember)
    monkeypatch.setattr(disc, "_blocks", lambda n: [(s, min(s + 50, n)) for s in range(0, n, 50)])
    with open_project(path) as store:
        run = discover(store, resolve_codebook(store), Options(sample=100, seed=3))
        units = {u["id"]: u for u in q.respondent_units(store)}
        _, codes = disc.reference_codes(store, "gold")
    assert len(fitted) == 100
    assert 150 <= live[1] <= 200  # the sample, then one or two chunks: never all 413
    (group,) = run.groups
    assert sum(t.size for t in group.topics) + group.outliers == 413
    for t in group.topics:
        sites = {}
        for s in t.segment_ids:
            sites[units[s]["site"]] = sites.get(units[s]["site"], 0) + 1
        assert t.distribution["site"] == sites
        coded = [codes[s] for s in t.segment_ids if s in codes]
        assert t.coverage == pytest.approx(sum(1 for c in coded if c) / len(coded))
        share = {c: sum(c in cs for cs in coded) / len(coded) for c, _ in t.codes}
        assert [round(share[c], 3) for c, _ in t.codes] == [x for _, x in t.codes]
        assert {quote["segment_id"] for quote in t.quotes} <= fitted & set(t.segment_ids)


def test_themes_stop_when_the_project_changes_between_their_passes(tmp_path):
    """Themes read the store more than once; a segment that is not where the first pass found
    it stops them with one line, not topics over a mixture of two projects."""
    import numpy as np

    from qualcode.errors import QualcodeError
    from qualcode.themes.segments import Corpus

    path = tmp_path / "p.db"
    _ingest(path, [CORPUS])
    with open_project(path) as store:
        corpus = Corpus(store)
        everything = [np.arange(len(corpus))]
        assert [u["id"] for u in next(corpus.read(everything))] == corpus.ids.tolist()
        first = store.execute("SELECT min(id) FROM segments WHERE is_interviewer = 0").fetchone()
        with store.atomic():
            store.execute("DELETE FROM segments WHERE id = ?", (first[0],))
        with pytest.raises(QualcodeError, match="changed while themes were being fitted"):
            next(corpus.read(everything))
