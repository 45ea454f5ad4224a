"""The once-only speaker label after an interviewer's question, and prose that only looks like
a label, on real transcript files under tests/data/labels."""

from __future__ import annotations

from pathlib import Path

from qualcode.ingest import READERS
from qualcode.ingest.options import ReadOptions

SWALLOWED = "every turn is an interviewer's"


def read(path: Path, **kw):
    (doc,) = READERS[path.suffix](path, ReadOptions(key=path.name, **kw))
    doc.check_offsets()
    return doc


def turns(doc):
    return [(s.speaker, s.is_interviewer) for s in doc.segments]


def test_a_once_only_label_after_a_blank_line_answers_the_interviewer(data):
    doc = read(data / "labels" / "one-off-answer.txt", respondent="HOL-96")
    assert turns(doc) == [("Interviewer", True), ("Manager", False)]
    answer = doc.segments[1]
    assert answer.text.startswith("Well, we ran it for two years")
    assert answer.text.endswith("the letter just came.")
    assert answer.participant == "HOL-96"  # the only respondent voice is the participant


def test_the_answer_is_ingested_and_not_warned_about(qc, data):
    result = qc("ingest", data / "labels" / "one-off-answer.txt", "--default-site", "Hollinsford")
    assert result.exit_code == 0, result.output
    assert SWALLOWED not in result.output
    status = qc("status")
    assert status.exit_code == 0, status.output
    # one respondent segment stored, so the answer will be coded
    assert "funding was cut" in qc.dump()


def test_notes_and_probes_inside_turns_are_not_speakers(data):
    doc = read(data / "labels" / "interviewer-notes.txt")
    assert turns(doc) == [
        ("Interviewer", True),
        ("HOL-95", False),
        ("Interviewer", True),
        ("HOL-95", False),
        ("Interviewer", True),
        ("HOL-95", False),
    ]
    # the interview-guide probe and the transcriber's note stay in the interviewer's turns
    assert doc.segments[0].text.endswith("Probe: who proposed it, and who signed it off?")
    assert doc.segments[2].text.endswith("Note: recording paused for a phone call.")
    # a colon sentence and a note inside an answer stay in the answer
    assert doc.segments[5].text == (
        "The problem was this: nobody owned it.\n\nNB: we never wrote that down anywhere."
    )
    assert all(s.participant == "HOL-95" for s in doc.segments if not s.is_interviewer)


def test_without_a_blank_line_the_label_is_still_not_taken_but_warned(qc, data):
    path = data / "labels" / "one-off-no-blank.txt"
    assert turns(read(path)) == [("Interviewer", True)]
    result = qc("ingest", path, "--default-site", "Hollinsford")
    assert result.exit_code == 0, result.output
    assert SWALLOWED in result.output
