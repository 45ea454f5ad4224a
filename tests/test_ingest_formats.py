"""Each reader on a real file: speakers, interviewer flags, offsets, times, metadata."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from qualcode.ingest import READERS
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import MAX_TURN_CHARS, segment_text
from qualcode.textio import normalise


def read(path: Path, **kw):
    docs = READERS[path.suffix](path, ReadOptions(key=path.name, **kw))
    for doc in docs:
        doc.check_offsets()
    return docs


def turns(doc):
    return [(s.speaker, s.is_interviewer, s.text) for s in doc.segments]


def test_txt_front_matter_labels_and_roles(data):
    (doc,) = read(data / "good" / "hol-interview.txt")
    assert doc.metadata["site"] == "Hollinsford"
    assert doc.metadata["tier"] == "operational"
    assert not doc.text.startswith("---")
    speakers = [(s.speaker, s.is_interviewer) for s in doc.segments]
    assert speakers == [
        ("Interviewer", True),
        ("HOL-90", False),
        ("Interviewer", True),
        ("HOL-90", False),
    ]
    first_answer = doc.segments[1]
    assert first_answer.speaker_role == "team manager"
    assert first_answer.participant == "HOL-90"
    assert first_answer.text.startswith("I manage the intermediate care team.")
    # a multi-paragraph answer stays one turn
    assert "\n\nHonestly the money side" in first_answer.text
    assert doc.segments[3].text.endswith("Nobody planned for it.")


def test_markdown_bold_labels_and_heading(data):
    (doc,) = read(data / "good" / "focus-group.md")
    assert [s.speaker for s in doc.segments] == [
        "Facilitator",
        "Carer (A)",
        "Carer (B)",
        "Facilitator",
        "Carer (A)",
    ]
    assert doc.segments[1].text == "Being asked before the decisions, not after."
    assert doc.warnings == []  # the title line is not taken for talk


def test_docx_bold_speaker_names(data):
    (doc,) = read(data / "good" / "interview.docx", respondent="HOL-91")
    assert [(s.speaker, s.is_interviewer) for s in doc.segments] == [
        ("Interviewer", True),
        ("HOL-91", False),
        ("Interviewer", True),
        ("HOL-91", False),
    ]
    # a paragraph with no label continues the previous speaker's turn
    assert doc.segments[1].text.endswith("walk down the corridor.")
    assert all(s.participant == "HOL-91" for s in doc.segments if not s.is_interviewer)


def test_vtt_voice_tags_merge_and_keep_times(data):
    (doc,) = read(data / "good" / "captions.vtt")
    assert turns(doc) == [
        ("Interviewer", True, "How did the pool work out?"),
        (
            "EDV-90",
            False,
            "Well, the money side was never the problem, to be fair. It's the reporting.",
        ),
        ("Interviewer", True, "Go on."),
        ("EDV-90", False, "We still fill in two returns."),
    ]
    answer = doc.segments[1]
    assert (answer.start_time, answer.end_time) == (5.0, 15.0)


def test_srt_name_prefixes_and_crlf(data):
    (doc,) = read(data / "good" / "captions.srt")
    assert "\r" not in doc.text
    assert turns(doc) == [
        ("Interviewer", True, "Who leads the assessment?"),
        ("BRA-90", False, "The consultant, always. We are told afterwards."),
    ]
    assert doc.segments[1].start_time == 3.5


def test_csv_one_document_per_response(data):
    docs = read(data / "good" / "responses.csv", id_column="response_id")
    assert [d.path for d in docs] == ["responses.csv#R1", "responses.csv#R2", "responses.csv#R4"]
    assert docs[1].text == 'We are at the table but nobody listens; "partnership" is a word.'
    assert docs[2].text == "Housing is never\ninvited to the planning meetings."
    assert docs[1].metadata["site"] == "Saltmere"
    assert docs[1].metadata["stakeholder_group"] == "voluntary sector"
    assert docs[1].metadata["question"] == "What hindered?"
    assert "response" not in docs[1].metadata
    assert any("1 empty response" in w for w in docs[0].warnings)


def test_unlabelled_text_is_one_respondent_turn_with_warning(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("We never had a shared budget.\n\nThe boards met twice a year.\n")
    (doc,) = read(path, respondent="P9")
    assert len(doc.segments) == 1
    assert doc.segments[0].participant == "P9"
    assert not doc.segments[0].is_interviewer
    assert "no speaker labels" in doc.warnings[0]


def test_sentence_with_colon_is_not_a_speaker(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(
        "Interviewer: What went wrong?\nP2: Lots.\nThe problem was this: nobody owned it.\n"
    )
    (doc,) = read(path)
    assert [s.speaker for s in doc.segments] == ["Interviewer", "P2"]
    assert doc.segments[1].text == "Lots.\nThe problem was this: nobody owned it."


def test_configurable_interviewer_labels(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Evaluator 2: Why?\nR1: Because.\nAsker: And?\nR1: So.\nAsker: Ok.\n")
    (doc,) = read(path, interviewer_labels=("asker",))
    assert [s.is_interviewer for s in doc.segments] == [False, False, True, False, True]


def test_long_turn_split_at_paragraph_breaks(tmp_path):
    paragraph = "We met every month and nothing moved. " * 12  # ~450 characters
    answer = "\n\n".join([paragraph.strip()] * 8)
    assert len(answer) > MAX_TURN_CHARS
    path = tmp_path / "t.txt"
    path.write_text(f"Interviewer: Tell me.\n\nP1: {answer}\n\nInterviewer: Thanks.\n")
    (doc,) = read(path)
    parts = [s for s in doc.segments if s.speaker == "P1"]
    assert len(parts) > 1
    assert {s.turn_index for s in parts} == {1}
    assert [s.part for s in parts] == list(range(len(parts)))
    assert all(len(s.text) <= MAX_TURN_CHARS for s in parts)
    assert "\n\n".join(s.text for s in parts) == answer


def test_normalise_bom_crlf_nfc():
    assert normalise("\ufeffcafe\u0301\r\nnext\rline") == "caf\u00e9\nnext\nline"


@pytest.mark.parametrize(
    ("bom", "encoding"), [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le")]
)
def test_bom_encodings_are_read(tmp_path, bom, encoding):
    path = tmp_path / "t.txt"
    path.write_bytes(bom + "Interviewer: Ça va?\r\nP1: Très bien.\r\n".encode(encoding))
    (doc,) = read(path)
    assert [s.text for s in doc.segments] == ["Ça va?", "Très bien."]


def test_time_stamps_before_labels():
    segments, _ = segment_text("[00:01:05] Interviewer: Hello.\n[00:01:09] P4: Hi.\n")
    assert [(s.speaker, s.start_time) for s in segments] == [("Interviewer", 65.0), ("P4", 69.0)]


@pytest.mark.parametrize("suffix", sorted(READERS))
def test_every_registered_suffix_has_a_reader(suffix):
    assert callable(READERS[suffix])
