"""Reading text files: decode (UTF-8, or UTF-8/UTF-16 with a BOM) and normalise, once.

Shared by every stage that reads text (transcripts, manifests, codebooks, coding CSVs).
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from qualcode.errors import InputError, TranscriptError

NUL_BYTES = (
    "contains NUL bytes: not a text file, or UTF-16 without a byte-order mark; re-save it as UTF-8"
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, path: str | Path) -> str:
    """Decode UTF-8, UTF-8 with BOM or UTF-16 with BOM; refuse anything else.

    Guessing at legacy encodings (cp1252, latin-1) would silently corrupt quotes that later
    appear in reports, so the user is told where the first bad byte is and asked to re-save.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise _decode_error(data, exc, path, encoding) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _decode_error(data, exc, path, "utf-8") from exc


def _decode_error(
    data: bytes, exc: UnicodeDecodeError, path: str | Path, encoding: str
) -> TranscriptError:
    # UTF-8-sig decodes what follows its BOM, so its positions start after it
    return _stream_decode_error(Path(path), exc, len(data) - len(exc.object), 0, encoding)


def normalise(text: str) -> str:
    """Strip a BOM, turn CRLF and CR into LF, and compose Unicode (NFC)."""
    text = text.removeprefix("\ufeff")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def text_sha256(text: str) -> str:
    """A document's identity by content: the same text hashes alike whatever file or tool it
    came from (machine runs record their training documents this way)."""
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_text(path: Path) -> str:
    """A text file's content, decoded and normalised, within the limits on untrusted files."""
    from qualcode.limits import FILE_BYTES, LINE_CHARACTERS

    try:
        size = path.stat().st_size
        if size > FILE_BYTES.value:
            raise TranscriptError(path, FILE_BYTES.exceeded(size))
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(path, f"cannot read ({exc.strerror})") from exc
    if not data.strip():
        raise TranscriptError(path, "file is empty")
    if b"\0" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise TranscriptError(
            path,
            NUL_BYTES,
            line=line,
        )
    text = normalise(decode(data, path))
    if len(text) > LINE_CHARACTERS.value:  # only a text this long can hold such a line
        for number, line in enumerate(text.split("\n"), start=1):
            if len(line) > LINE_CHARACTERS.value:
                raise TranscriptError(path, LINE_CHARACTERS.exceeded(len(line)), line=number)
    return text


def read_lines(path: Path, chunk: int = 1 << 20) -> Iterator[str]:
    """``read_text`` a line at a time (each but perhaps the last ending in LF), reading
    ``chunk`` bytes at a time: for a consultation's CSV too large to hold. The same decoding,
    normalisation and checks as ``read_text``, with the same messages, raised when the reading
    reaches them; the file may be up to QUALCODE_MAX_STREAMED_BYTES, not QUALCODE_MAX_FILE_BYTES.
    ``"".join(read_lines(path)) == read_text(path)`` for any file both accept.
    """
    from qualcode.limits import LINE_CHARACTERS, STREAMED_BYTES

    try:
        size = path.stat().st_size
        if size > STREAMED_BYTES.value:
            raise TranscriptError(path, STREAMED_BYTES.exceeded(size))
        handle = path.open("rb")
    except OSError as exc:
        raise TranscriptError(path, f"cannot read ({exc.strerror})") from exc
    with handle:
        yield from _lines_of(handle, path, chunk, LINE_CHARACTERS.value)


def _lines_of(handle, path: Path, chunk: int, longest: int) -> Iterator[str]:
    head = handle.read(max(chunk, 4))
    encoding, utf16 = "utf-8", False
    for bom, name in _BOMS:
        if head.startswith(bom):
            encoding, utf16 = name, name == "utf-16"
            break
    decoder = codecs.getincrementaldecoder(encoding)()
    done = newlines = 0  # bytes decoded before this piece, and the LF bytes among them
    line = 1  # the number of the line being built
    held = ""  # text not yet a whole line (and a CR that may start a CRLF)
    blank = True
    waiting: list[str] = []
    data = head
    while data:
        if blank and data.strip():
            blank = False
        if not utf16 and b"\0" in data:
            at = data.index(b"\0")
            raise TranscriptError(
                path,
                NUL_BYTES,
                line=newlines + data.count(b"\n", 0, at) + 1,
            )
        pending = decoder.getstate()[0]  # bytes held over from the last piece
        try:
            text = decoder.decode(data)
        except UnicodeDecodeError as exc:
            before = done - len(pending)
            if not done and encoding == "utf-8-sig":  # its BOM is taken off before decoding
                before += len(codecs.BOM_UTF8)
            lines = newlines - pending.count(b"\n")
            raise _stream_decode_error(path, exc, before, lines, encoding) from exc
        done += len(data)
        newlines += data.count(b"\n")
        pieces = _normalised_lines(held + text, path, line, longest)
        held = pieces.pop()
        line += len(pieces)
        if blank:  # nothing but white space yet: kept until the file shows it is not empty
            waiting += pieces
        else:
            yield from waiting
            waiting = []
            yield from pieces
        data = handle.read(chunk)
    try:
        held += decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        pending = decoder.getstate()[0]
        lines = newlines - pending.count(b"\n")
        raise _stream_decode_error(path, exc, done - len(pending), lines, encoding) from exc
    if blank:
        raise TranscriptError(path, "file is empty")
    yield from waiting
    yield from (p for p in _normalised_lines(held, path, line, longest, final=True) if p)


def _normalised_lines(
    text: str, path: Path, line: int, longest: int, final: bool = False
) -> list[str]:
    """Whole lines of ``text`` (LF-ended, normalised as ``normalise`` does), then what is left
    for the next piece (a partial line, and a CR that may yet be a CRLF's)."""
    if line == 1:
        text = text.removeprefix("\ufeff")
    keep = "\r" if text.endswith("\r") and not final else ""
    if keep:
        text = text[:-1]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    out = []
    for number, piece in enumerate(lines[:-1], start=line):
        piece = unicodedata.normalize("NFC", piece)
        if len(piece) > longest:
            raise TranscriptError(path, _too_long(len(piece)), line=number)
        out.append(piece + "\n")
    rest = lines[-1]
    if len(rest) > longest:  # a line already too long need not be read to its end
        raise TranscriptError(path, _too_long(len(rest)), line=line + len(lines) - 1)
    out.append(unicodedata.normalize("NFC", rest) if final else rest + keep)
    return out


def _too_long(found: int) -> str:
    from qualcode.limits import LINE_CHARACTERS

    return LINE_CHARACTERS.exceeded(found)


def _stream_decode_error(
    path: Path, exc: UnicodeDecodeError, before: int, newlines: int, encoding: str
) -> TranscriptError:
    """The error for bytes that do not decode, in a whole file or a piece of one: ``before``
    bytes and ``newlines`` LFs came before the bytes the decoder was given."""
    line = newlines + exc.object.count(b"\n", 0, exc.start) + 1
    name = "UTF-8" if encoding == "utf-8" else encoding
    return TranscriptError(
        path,
        f"byte 0x{exc.object[exc.start]:02x} at offset {before + exc.start} is not valid {name}; "
        "re-save the file as UTF-8",
        line=line,
    )


# A cell that begins with one of these is a formula to Excel, LibreOffice and Google Sheets
# (CSV injection: a transcript line "=HYPERLINK(...)" would become live).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell that a spreadsheet would read as a formula, with a leading apostrophe (as
    OWASP advises); numbers and other cells unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object] | Mapping[str, object]]) -> str:
    """The one CSV writer for every export: the header, then rows (sequences in header order,
    or mappings by column name), each text cell spreadsheet-safe."""
    return "".join(csv_lines(header, rows))


def csv_lines(
    header: Sequence[str], rows: Iterable[Sequence[object] | Mapping[str, object]]
) -> Iterator[str]:
    """``csv_text`` a row at a time (the header first), for exports too large to hold."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        cells = [row.get(c) for c in header] if isinstance(row, Mapping) else row
        writer.writerow([spreadsheet_safe(c) for c in cells])
        if out.tell() > CSV_CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


CSV_CHUNK = 1 << 16  # characters of CSV handed on at a time


def check_yaml(text: str, path: str | Path, *, first_line: int = 1) -> None:
    """Refuse YAML that is too long, uses too many aliases, or would expand to too many
    values, before anything is built from it: nested aliases expand without bound when
    loaded (a "billion laughs": 80 aliases can stand for 10**9 strings).

    The expansion is counted from the parser's events: a scalar is one value, a collection
    one plus its contents, an alias the size of what its anchor named. YAML that does not
    parse is left to the caller's loader, which reports where.
    """
    import yaml

    from qualcode.limits import YAML_CHARACTERS

    if len(text) > YAML_CHARACTERS.value:
        raise InputError(path, YAML_CHARACTERS.exceeded(len(text)))
    counter = _YamlCounter(path, first_line)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        for event in yaml.parse(text, Loader=loader):
            counter.add(event)
    except yaml.YAMLError:
        return


class _YamlCounter:
    """Counts aliases and expanded values over a stream of YAML events."""

    def __init__(self, path: str | Path, first_line: int) -> None:
        self.path, self.first_line = path, first_line
        self.aliases = self.total = 0
        self.sizes: dict[str, int] = {}
        self.open: list[list] = []  # per open collection: [anchor, size so far]

    def add(self, event) -> None:
        import yaml

        from qualcode.limits import YAML_ALIASES, YAML_VALUES

        if isinstance(event, yaml.CollectionStartEvent):
            self.open.append([event.anchor, 1])
            return
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = self.open.pop()
            if anchor:
                self.sizes[anchor] = size
            if self.open:  # its contents are in the total already
                self.open[-1][1] += size
            return
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > YAML_ALIASES.value:
                self._refuse(YAML_ALIASES.exceeded(self.aliases), event)
            size = self.sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            if event.anchor:
                self.sizes[event.anchor] = 1
        else:
            return
        self.total += size
        if self.open:
            self.open[-1][1] += size
        if self.total > YAML_VALUES.value:
            self._refuse(YAML_VALUES.exceeded(f"over {self.total}"), event)

    def _refuse(self, reason: str, event) -> None:
        raise InputError(self.path, reason, line=event.start_mark.line + self.first_line)


def yaml_problem(exc: Exception, first_line: int = 1) -> tuple[str, int | None]:
    """What PyYAML found wrong, and the line of the file (counting from ``first_line``)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return problem, (mark.line + first_line if mark is not None else None)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted (start, end) spans with overlapping or touching ones joined; empty or negative
    ones dropped."""
    merged: list[list[int]] = []
    for start, end in sorted((a, b) for a, b in spans if 0 <= a < b):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e) for s, e in merged]


def marked_pieces(text: str, spans) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, marked) runs, overlapping or touching spans merged; for
    showing evidence highlighted on a terminal or in HTML."""
    pieces, pos = [], 0
    for start, end in merge_spans(spans):
        if start > pos:
            pieces.append((text[pos:start], False))
        pieces.append((text[start:end], True))
        pos = end
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces
