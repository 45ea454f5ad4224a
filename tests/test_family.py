"""The family gate and the shipped hybrid coder on text of other kinds: negation, near misses,
short and long segments, an empty family, evidence, and the expected-agreement figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qualcode.codebook import HARDY_FAMILIES, default_codebook_path, load_codebook
from qualcode.coding import expected as expected_module
from qualcode.coding.embedding import SHIPPED_CACHE, shipped_training_rows, text_key
from qualcode.coding.evaluate import score
from qualcode.coding.expected import expected_for, load_expected
from qualcode.coding.family import FamilyCoder, training_rows, windows
from qualcode.coding.hybrid import HybridCoder
from qualcode.coding.training import default_units

DEVSET = Path(__file__).resolve().parents[2] / "shared" / "devset" / "devset.jsonl"
NEUTRAL = [
    "The council serves a population of about 250,000 people.",
    "The board meets every two months in the town hall.",
    "Interviews were held with 23 managers and practitioners in 2003.",
    "The service supports older people leaving hospital.",
]
GRANT = "Then the grant ran out in March and the project closed before it had bedded in."


@pytest.fixture(scope="module")
def shipped():
    return load_codebook(default_codebook_path())


@pytest.fixture(scope="module")
def hybrid(shipped):
    units = default_units(shipped)
    return HybridCoder(shipped).fit(units.texts, units.labels, groups=units.groups)


def families(coder, text: str) -> set[str]:
    return {a.code.split(".")[0] for a in coder.predict([text])[0]}


def test_windows_cover_a_long_text_in_sentence_runs():
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    pieces = windows(text, size=20)
    assert pieces[0] == text
    assert all(len(p.split()) <= 20 for p in pieces[1:])
    joined = " ".join(pieces[1:])
    assert all(f"number {i} " in joined for i in range(30))
    assert windows("A short answer.") == ["A short answer."]


def test_only_passages_with_no_family_add_their_windows(shipped):
    long_negative = " ".join(NEUTRAL * 5)
    long_positive = long_negative + " " + GRANT
    rows, owner, fams = training_rows(
        shipped, [long_negative, long_positive], [set(), {"financial.short_term_funding"}]
    )
    assert rows[0] == long_negative
    assert owner.count(0) > 1
    assert owner.count(1) == 1  # the positive, whole only
    assert fams[1] == {"financial"}
    examples = sum(len(c.examples) for c in shipped.codable)
    assert len(fams) == 2 + examples


def test_a_family_nobody_coded_is_never_given(tmp_path):
    book = tmp_path / "codebook.yaml"
    book.write_text(
        """name: two families, one never coded
codes:
  - {id: financial, label: Financial, polarity: neutral}
  - id: financial.short_term_funding
    label: Short-term funding
    polarity: barrier
    definition: Money that ends too soon.
    examples: ["The grant ends in March.", "Pilot money ran out.", "Funding is year to year."]
  - {id: status, label: Status, polarity: neutral}
  - id: status.tokenism
    label: Tokenism
    polarity: barrier
    definition: Being consulted for show.
"""
    )
    codebook = load_codebook(book)
    texts = ["The grant ran out.", "We met on Tuesday.", "It rained.", "Money ran out in May."]
    labels = [{"financial.short_term_funding"}, set(), set(), {"financial.short_term_funding"}]
    gate = FamilyCoder(codebook, embedding="none").fit(texts, labels)
    assert gate.models_["status"] is None
    scores, found = gate.scores_and_families(["We were only there to rubber-stamp it.", ""])
    assert scores[0]["status"] == 0.0
    assert all("status" not in f for f in found)
    assert found[1] == set()


def test_denied_problem_is_never_the_barrier(hybrid, shipped):
    result = hybrid.predict(["Funding was never a problem for this partnership."])[0]
    barriers = [a.code for a in result if shipped.codes[a.code].polarity == "barrier"]
    assert barriers == []


def test_concession_codes_what_follows_but(hybrid):
    text = "Money was not the issue; it was the culture clash between nurses and social workers."
    assert families(hybrid, text) == {"professional"}


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("The nurse was very professional with my mother.", "professional"),
        ("We got charitable status in 1997.", "status"),
        ("She was waiting for her hip procedure.", "procedural"),
    ],
)
def test_near_misses_are_not_coded(hybrid, text, absent):
    assert absent not in families(hybrid, text)


def test_short_and_empty_segments(hybrid):
    assert hybrid.predict(["", "   ", "Yes."]) == [[], [], []]


def test_one_barrier_in_a_long_segment_is_found_and_does_not_spread(hybrid):
    text = " ".join(NEUTRAL * 6) + " " + GRANT + " " + " ".join(NEUTRAL * 6)
    assert len(text.split()) > 400
    found = families(hybrid, text)
    assert "financial" in found
    assert len(found) <= 2


def test_gate_codes_carry_evidence_inside_the_text(hybrid):
    texts = [
        "Because the two agencies' computer systems could not talk to each other, staff kept "
        "two sets of records.",
        "The short-term grant ran out in March and the project closed before it had bedded in.",
    ]
    for text, result in zip(texts, hybrid.predict(texts), strict=True):
        assert result
        for assignment in result:
            assert 0 < assignment.confidence <= 1
            assert assignment.evidence
            for e in assignment.evidence:
                assert 0 <= e.start < e.end <= len(text)


def test_shipped_embedding_cache_covers_the_training_rows():
    with np.load(SHIPPED_CACHE) as data:
        cached = set(data["keys"].tolist())
        assert data["vectors"].shape[1] == 384
    missing = {text_key(t) for t in shipped_training_rows()} - cached
    assert not missing, "run: python -m qualcode.coding.embedding"


def test_expected_figures_apply_only_to_the_coder_they_were_measured_for(tmp_path, monkeypatch):
    path = tmp_path / "expected.json"
    monkeypatch.setattr(expected_module, "EXPECTED_PATH", path)
    assert expected_for("abc", "hybrid", "gold.csv over x") is None  # nothing measured
    kappa = {
        "structural": 0.3,
        "procedural": 0.65,
        "financial": 0.7,
        "professional": 0.2,
        "status": None,
    }
    path.write_text(
        json.dumps(
            {
                "devset": {"units": 230, "kappa": kappa, "false_positive_rate": 0.1},
                "codebook_hash": "abc",
            }
        )
    )
    loaded, digest = load_expected(path)
    assert digest == "abc"
    assert loaded.false_positive_rate == 0.1
    found = expected_for("abc", "hybrid", "gold.csv over x")
    assert found is not None
    assert found.review() == ["structural", "professional", "status"]
    assert "230 real published passages" in found.summary()
    assert "review by hand: structural, professional, status" in found.summary()
    assert expected_for("other", "hybrid", "gold.csv over x") is None  # edited codebook
    assert expected_for("abc", "rules", None) is None
    assert expected_for("abc", "hybrid", "coder alice in the project") is None


@pytest.mark.skipif(not DEVSET.is_file(), reason="../shared/devset is absent (not in the repo)")
def test_shipped_coder_on_real_published_passages(hybrid):
    """A floor, not a target: the shipped coder on the development set of real passages."""
    passages = [json.loads(line) for line in DEVSET.read_text().splitlines() if line]
    truth = [{label["family"] for label in p["labels"]} for p in passages]
    predicted = [
        {a.code.split(".")[0] for a in r} for r in hybrid.predict([p["text"] for p in passages])
    ]
    kappas = [
        score([f in t for t in truth], [f in p for p in predicted]).kappa for f in HARDY_FAMILIES
    ]
    negatives = [p for t, p in zip(truth, predicted, strict=True) if not t]
    assert np.mean(kappas) >= 0.28
    assert sum(bool(p) for p in negatives) / len(negatives) <= 0.2
