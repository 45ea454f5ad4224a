"""Three human coders on real demo interviews: who is the reference, every human pair audited
on the segments both examined, and in-sample only where the machine saw the audited codings."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from qualcode.coding.project import resolve_codebook
from qualcode.pipeline import agreements, choose_reference
from qualcode.store import open_project
from tests.conftest import CORPUS

BOTH = ("hollinsford/HOL-01.txt", "saltmere/SAL-03.txt")  # coded by ana and ben
ONE = ("hollinsford/HOL-01.txt",)  # all cleo coded


def _coding_csv(path, source: str, documents) -> None:
    rows = [
        r
        for r in csv.DictReader((CORPUS / "codings" / f"{source}.csv").open(encoding="utf-8"))
        if r["document"] in documents
    ]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["document", "start", "end", "code"], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def three(qc, tmp_path):
    """ana and ben (real coder-a and coder-b codings) coded two interviews, cleo (gold's) one:
    the issue's case, where the alphabetically first coder became the reference."""
    for name in BOTH:
        assert qc("ingest", CORPUS / name).exit_code == 0
    for coder, source, documents in (
        ("ana", "coder-a", BOTH),
        ("ben", "coder-b", BOTH),
        ("cleo", "gold", ONE),
    ):
        path = tmp_path / f"{coder}.csv"
        _coding_csv(path, source, documents)
        result = qc("codings", "import", path, "--coder", coder)
        assert result.exit_code == 0, result.output
    return qc


def _audits(qc, **kw):
    with open_project(qc.project) as store:
        codebook = resolve_codebook(store)
        done = agreements(store, codebook, dict.fromkeys(["ana", "ben", "cleo"]), None, **kw)
        segments = {
            doc: store.execute(
                "SELECT count(*) FROM segments s JOIN documents d ON d.id = s.document_id"
                " WHERE d.path = ? AND NOT s.is_interviewer",
                (doc,),
            ).fetchone()[0]
            for doc in BOTH
        }
    return done, segments


def test_every_human_pair_on_the_segments_both_examined(three):
    done, segments = _audits(three)
    humans = {tuple(c["name"] for c in a.result["coders"]): a for a in done if a.name != "machine"}
    assert set(humans) == {("ana", "ben"), ("ana", "cleo"), ("ben", "cleo")}
    both, one = sum(segments.values()), segments[ONE[0]]
    assert humans[("ana", "ben")].result["n_segments"] == both  # the two who coded most
    assert humans[("ana", "cleo")].result["n_segments"] == one
    assert humans[("ben", "cleo")].result["n_segments"] == one
    # pages do not collide; the first pair keeps the page name human.html
    assert len({a.name for a in done}) == len(done)
    assert done[0].name == "human"


def test_the_reference_is_who_examined_most_unless_named(three):
    with open_project(three.project) as store:
        chosen = choose_reference(store, ["ana", "ben", "cleo"])
        # ana and ben examined the same segments; the tie goes to the first by name
        assert chosen.coder == "ana"
        assert "examined the most segments" in chosen.why
        assert "gold, consensus or adjudicated" in chosen.note
        # not simply the first by name: cleo alone would lose to ben
        assert choose_reference(store, ["ben", "cleo"]).coder == "ben"
        assert choose_reference(store, ["ana", "cleo"], "cleo").why.endswith("--reference-coder")


def test_an_adjudicated_coder_is_preferred(three, tmp_path):
    path = tmp_path / "consensus.csv"
    _coding_csv(path, "gold", ONE)
    assert three("codings", "import", path, "--coder", "consensus").exit_code == 0
    with open_project(three.project) as store:
        chosen = choose_reference(store, ["ana", "ben", "cleo", "consensus"])
    assert (chosen.coder, chosen.why) == ("consensus", "the adjudicated coder")


def test_in_sample_only_for_the_coder_the_machine_trained_on(three):
    result = three("train", "--from", "ana", "--kind", "model", "--folds", "2")
    assert result.exit_code == 0, result.output
    assert three("code", "--kind", "model").exit_code == 0
    on_ana = json.loads(three("agree", "--coders", "ana,model", "--format", "json").output)
    [entry] = on_ana["in_sample"]
    assert entry["same_coder"] == ["ana"]
    # The run trained on ana's codings of these documents, never on ben's: comparing ben with
    # it is not in-sample, though the documents are the same.
    on_ben = json.loads(three("agree", "--coders", "ben,model", "--format", "json").output)
    assert on_ben["n_segments"] == on_ana["n_segments"]
    assert on_ben["in_sample"] == []
    assert "In-sample" not in three("agree", "--coders", "ben,model").output
    done, _ = _audits(three, reference="ben")
    [machine] = [a for a in done if a.name == "machine"]
    assert [c["name"] for c in machine.result["coders"]] == ["ben", "machine"]
    assert machine.in_sample == []
    assert machine.note.startswith("Reference coder: ben, named with --reference-coder")
    done, _ = _audits(three)  # ana, who examined most, and whose codings it trained on
    [machine] = [a for a in done if a.name == "machine"]
    assert machine.reference == "ana"
    assert machine.in_sample
    assert machine.in_sample[0].startswith("In-sample: model")


def test_report_option_names_the_reference(three, tmp_path):
    assert three("code", "--kind", "rules").exit_code == 0
    bad = three("report", "--out-dir", tmp_path / "r", "--reference-coder", "nobody")
    assert bad.exit_code == 1
    assert "--reference-coder" in bad.output
    assert "nobody" in bad.output
    assert "Traceback" not in bad.output
    good = three("report", "--out-dir", tmp_path / "r", "--reference-coder", "cleo")
    assert good.exit_code == 0, good.output
    page = (tmp_path / "r" / "agreement-machine.html").read_text(encoding="utf-8")
    assert "cleo" in page
    assert sorted(p.name for p in (tmp_path / "r").glob("agreement-human*.html")) == [
        "agreement-human-ana-cleo.html",
        "agreement-human-ben-cleo.html",
        "agreement-human.html",
    ]


def test_the_manifest_names_the_reference(qc, tmp_path):
    corpus = tmp_path / "corpus"
    for name in BOTH:
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / name, corpus / name)
    (corpus / "codings").mkdir()
    for coder, source in (("ana", "coder-a"), ("ben", "coder-b")):
        _coding_csv(corpus / "codings" / f"{coder}.csv", source, BOTH)
    manifest = (
        "codings:\n  ana: codings/ana.csv\n  ben: codings/ben.csv\nreference_coder: ben\n"
        "documents:\n" + "".join(f"- file: {n}\n  site: S\n" for n in BOTH)
    )
    (corpus / "manifest.yaml").write_text(manifest, encoding="utf-8")
    result = qc("ingest", corpus)
    assert result.exit_code == 0, result.output
    for coder in ("ana", "ben"):
        assert qc("codings", "import", corpus / "codings" / f"{coder}.csv", "--coder", coder)
    with open_project(qc.project) as store:
        chosen = choose_reference(store, ["ana", "ben"])
    assert (chosen.coder, chosen.why) == ("ben", "named by the manifest's reference_coder")
    # a reference that is not one of the manifest's coders is an error naming the field
    (corpus / "manifest.yaml").write_text(
        manifest.replace("reference_coder: ben", "reference_coder: zoe")
    )
    bad = qc("ingest", corpus)
    assert bad.exit_code == 1
    assert "reference_coder" in bad.output
    assert "zoe" in bad.output
