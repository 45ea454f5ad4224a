"""WordLlama, the fast sentence embedding (`qualcode code --embedding wordllama`): the vectors
its own package computes, read from the files in its wheel without downloading anything, and a
hybrid coder that codes with it."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from qualcode.coding.embedding import SentenceEmbedder, _package_folder, wordllama_available
from qualcode.ingest import read_documents
from qualcode.store import open_project
from tests.conftest import CORPUS

pytestmark = pytest.mark.skipif(not wordllama_available(), reason="wordllama is not installed")


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """The respondent talk of two demo interviews: short and long turns, and an empty one."""
    docs = read_documents([CORPUS / "saltmere" / "SAL-03.txt", CORPUS / "hollinsford"])
    talk = [s.text for d in docs for s in d.segments if not s.is_interviewer]
    return [*talk[:300], ""]


def test_vectors_are_the_ones_the_wordllama_package_computes(texts):
    inference = pytest.importorskip("wordllama.inference")
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from qualcode.coding.embedding import WORDLLAMA_TOKENIZER, WORDLLAMA_WEIGHTS

    folder = _package_folder("wordllama")
    theirs = inference.WordLlamaInference(
        load_file(str(folder / WORDLLAMA_WEIGHTS))["embedding.weight"],
        Tokenizer.from_file(str(folder / WORDLLAMA_TOKENIZER)),
    )
    reference = theirs.embed(texts[:-1], norm=True)
    ours = SentenceEmbedder.create("wordllama").encode(texts, remember=False)
    assert ours.shape == (len(texts), 256)
    # rounded through float16, as every vector the embedder gives
    assert np.abs(ours[:-1] - reference).max() < 2e-3
    np.testing.assert_allclose(np.linalg.norm(ours[:-1], axis=1), 1.0, atol=2e-3)
    # the empty text: a zero vector (the package divides by its zero norm: NaN)
    assert not ours[-1].any()


def test_coding_a_corpus_keeps_none_of_its_vectors(texts):
    embedder = SentenceEmbedder.create("wordllama")
    before = len(embedder._cache)
    first = embedder.encode(texts[:50], remember=False)
    assert len(embedder._cache) == before
    again = embedder.encode(texts[:50])  # training texts are remembered
    assert len(embedder._cache) == before + len(set(texts[:50]))
    np.testing.assert_array_equal(first, again)


def test_code_with_the_wordllama_embedding(qc, tmp_path):
    assert qc("ingest", CORPUS / "saltmere").exit_code == 0
    result = qc("code", "--embedding", "wordllama")
    assert result.exit_code == 0, result.output
    # the shipped agreement figures were measured with MiniLM: not shown for this coder
    assert "Machine codes: expected kappa" not in result.output
    assert qc("codings", "export", "-o", tmp_path / "out.csv").exit_code == 0
    with (tmp_path / "out.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len({r["segment_id"] for r in rows}) > 20
    assert {r["coder"] for r in rows} == {"hybrid"}
    with open_project(qc.project) as store:
        (parameters,) = store.execute(
            "SELECT parameters FROM runs WHERE command = 'code'"
        ).fetchone()
    assert json.loads(parameters)["embedding"] == "wordllama"  # the run says how it was coded
    # nor does the report claim them for this run
    assert qc("report", "--out-dir", tmp_path / "report").exit_code == 0
    assert (
        "Machine coder's expected agreement" not in (tmp_path / "report" / "index.html").read_text()
    )


def test_the_embedding_is_for_the_hybrid_coder(qc):
    assert qc("ingest", CORPUS / "saltmere" / "SAL-03.txt").exit_code == 0
    result = qc("code", "--kind", "rules", "--embedding", "wordllama")
    assert result.exit_code == 2
    assert "--embedding is for the hybrid coder" in result.output
