"""CSVs of responses are read a line at a time (``read_lines``), never held whole: the same text
and the same one-line errors as ``read_text``, wherever the reads happen to break the file."""

from __future__ import annotations

import codecs

import pytest

from qualcode.errors import TranscriptError
from qualcode.textio import read_lines, read_text

# Texts that test the seams: CRLF and lone CR line ends, characters of two to four bytes,
# a letter and its combining accent (composed to one character, NFC), UTF-16 and BOMs.
GOOD = {
    "crlf": 'id,response\r\n1,"pooled, café"\r\n2,naïve\r\n'.encode(),
    "cr": b"id,response\r1,a\r2,b\r\r",
    "mixed": "a\r\n\r\nb\rc\n e\u0301 \U0001f600 \u4e2d\n".encode(),
    "no-final-end": "one\ntwo ✓".encode(),
    "utf8-bom": codecs.BOM_UTF8 + "x,y\r\n1,é\r\n".encode(),
    "utf16-bom": "x,y\r\n1,e\u0301\n2,\U0001f600\n".encode("utf-16"),
    "utf16-be": codecs.BOM_UTF16_BE + "x\ny\n".encode("utf-16-be"),
    "blank-then-text": b"\n \n\t\nhello\n",
}
BAD = {
    "empty": b"",
    "blank": b" \n\n\t \r\n",
    "latin1": "id,response\n1,café\n".encode("latin-1"),
    "cut-character": "ab\ncd✓".encode()[:-1],
    "bad-after-bom": codecs.BOM_UTF8 + b"ab\ncd\xe9f\n",
    "nul": b"id,response\n1,a\n2,\0b\n",
    "utf16-no-bom": "x\ny\n".encode("utf-16-le"),
    "lone-surrogate": codecs.BOM_UTF16_LE + "ab\n".encode("utf-16-le") + b"\x00\xd8x\x00",
}


def _outcome(read):
    try:
        return read()
    except TranscriptError as exc:
        return f"error: {exc}"


@pytest.mark.parametrize("name", sorted(GOOD) + sorted(BAD))
def test_lines_are_the_text_whatever_the_piece_size(tmp_path, name):
    path = tmp_path / f"{name}.csv"
    path.write_bytes({**GOOD, **BAD}[name])
    whole = _outcome(lambda: read_text(path))
    assert whole.startswith("error: ") == (name in BAD)
    for chunk in (1, 2, 3, 5, 7, 1 << 20):
        assert _outcome(lambda c=chunk: "".join(read_lines(path, chunk=c))) == whole, chunk
    if name in GOOD:  # each line ends in one LF (the last may have none)
        lines = list(read_lines(path, chunk=3))
        assert all(line.count("\n") == 1 and line.endswith("\n") for line in lines[:-1])


def test_a_long_line_is_refused_before_it_is_read_to_its_end(tmp_path, monkeypatch):
    monkeypatch.setenv("QUALCODE_MAX_LINE_CHARS", "100")
    path = tmp_path / "long.csv"
    path.write_text("id,response\n1,short\n2," + "word " * 10_000 + "\n")
    lines = read_lines(path, chunk=64)
    assert next(lines) == "id,response\n"
    assert next(lines) == "1,short\n"
    with pytest.raises(TranscriptError, match=r"long.csv:3: \d+ characters on one line"):
        next(lines)


def test_a_csv_over_the_file_limit_is_streamed_and_has_its_own_limit(qc, tmp_path, monkeypatch):
    path = tmp_path / "survey.csv"
    rows = [f"{i},We never had a pooled budget at site {i}." for i in range(200)]
    path.write_text("id,response\n" + "\n".join(rows) + "\n", encoding="utf-8")
    transcript = tmp_path / "interview.txt"
    transcript.write_text("Interviewer: And?\nP1: " + "We shared records. " * 200 + "\n")
    monkeypatch.setenv("QUALCODE_MAX_FILE_BYTES", "2000")  # both files are larger
    refused = qc("ingest", transcript, "--default-site", "x")
    assert refused.exit_code == 1
    assert "bytes in one file: more than the limit of 2000" in refused.output
    result = qc("ingest", path, "--default-site", "x")
    assert result.exit_code == 0, result.output
    assert "200 documents" in result.output
    before = qc.dump()
    monkeypatch.setenv("QUALCODE_MAX_STREAMED_BYTES", "2000")
    second = tmp_path / "second.csv"
    second.write_text(path.read_text().replace("site", "place"), encoding="utf-8")
    result = qc("ingest", second, "--default-site", "x")
    assert result.exit_code == 1
    assert "bytes in one CSV file: more than the limit of 2000" in result.output
    assert "QUALCODE_MAX_STREAMED_BYTES" in result.output
    assert qc.dump() == before
