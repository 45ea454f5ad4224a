"""REFI-QDA (QDA-XML 1.0) projects and codebooks, read into plain data.

The reader is lenient where real tools differ and strict where the data would be wrong:

- XML is parsed with ``defusedxml`` (no entities, no external references) and elements are
  matched by local name, so the project namespace, the codebook namespaces seen in the wild
  (``urn:QDA-XML:codebook:1.0`` and ``:0:4``) and a missing namespace all read alike.
- The project document is ``project.qde``, or the one ``.qde`` member when a tool names it
  after the project; sources are found under ``sources/`` or ``Sources/``, from a
  ``plainTextPath`` with or without ``internal://``, or from inline ``PlainTextContent``.
- Selection offsets are converted to qualcode's: code points of the text after its BOM is
  dropped, CRLF turned into LF and Unicode composed (NFC). NVivo counts UTF-16 code units
  (an emoji is two) on the raw text, CRLF as two; qc and most others count code points.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from qualcode.errors import InputError
from qualcode.interop.archive import Archive

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
OFFSET_UNITS = ("auto", "codepoint", "utf16")
SKIPPED_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")


@dataclass(slots=True)
class RefiCode:
    guid: str
    name: str
    parent: str | None  # guid
    codable: bool
    color: str | None = None
    description: str = ""
    depth: int = 0


@dataclass(slots=True)
class RefiCoding:
    code: str  # guid
    user: str | None  # guid of who coded: the selection's creatingUser, else the Coding's
    note: str = ""


@dataclass(slots=True)
class RefiSelection:
    guid: str
    start: int  # in qualcode's offsets (see the module docstring)
    end: int
    codings: list[RefiCoding] = field(default_factory=list)
    description: str = ""


@dataclass(slots=True)
class RefiSource:
    guid: str
    name: str
    text: str | None  # normalised; None when it could not be read (see ``problem``)
    selections: list[RefiSelection] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    problem: str | None = None


@dataclass(slots=True)
class RefiProject:
    name: str
    origin: str
    users: dict[str, str]  # guid -> name
    codes: list[RefiCode]
    sources: list[RefiSource]
    sets: list[tuple[str, list[str]]]  # (name, member code guids)
    description: str = ""
    notes: dict[str, str] = field(default_factory=dict)  # guid -> text
    skipped: list[str] = field(default_factory=list)  # sources of other kinds, by name
    selections: int = 0  # as counted in the file
    codings: int = 0
    all_sets: int = 0  # sets of any members (codes, sources, notes)
    offsets: str = "codepoint"


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def children(node: Element, name: str) -> list[Element]:
    return [c for c in node if local(c.tag) == name]


def child(node: Element, name: str) -> Element | None:
    return next((c for c in node if local(c.tag) == name), None)


def text_of(node: Element | None, name: str) -> str:
    found = child(node, name) if node is not None else None
    return (found.text or "").strip() if found is not None else ""


def parse_xml(data: bytes, where: str) -> Element:
    """Parse XML safely; a malformed document is a one-line error naming it and the line."""
    try:
        return fromstring(data)
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise InputError(where, f"not well-formed XML ({exc.msg})", line=line) from exc
    except DefusedXmlException as exc:
        raise InputError(where, f"refused: {exc} (entities are not allowed)") from exc


def read_codes(root: Element) -> list[RefiCode]:
    """Every Code under a CodeBook (or a .qdc's root), in document order, with parents."""
    codes: list[RefiCode] = []

    def walk(node: Element, parent: str | None, depth: int) -> None:
        for code in children(node, "Code"):
            guid = code.get("guid", "").strip().strip("{}").lower()
            codes.append(
                RefiCode(
                    guid=guid,
                    name=code.get("name", ""),
                    parent=parent,
                    codable=code.get("isCodable", "true").strip().lower() in ("true", "1"),
                    color=code.get("color"),
                    description=text_of(code, "Description"),
                    depth=depth,
                )
            )
            walk(code, guid, depth + 1)

    book = root if local(root.tag) == "CodeBook" else child(root, "CodeBook")
    holder = child(book, "Codes") if book is not None else None
    if holder is not None:
        walk(holder, None, 0)
    return codes


def read_sets(root: Element) -> list[tuple[str, list[str]]]:
    """Sets of codes, as (name, member code GUIDs); sets of sources or notes are left out."""
    sets = child(root, "Sets")
    out = []
    for s in children(sets, "Set") if sets is not None else []:
        members = [
            (m.get("targetGUID") or m.get("guid") or "").strip("{}").lower()
            for m in children(s, "MemberCode")
        ]
        if members:
            out.append((s.get("name", ""), members))
    return out


def count_sets(root: Element) -> int:
    sets = child(root, "Sets")
    return len(children(sets, "Set")) if sets is not None else 0


def read_codebook_file(path: Path) -> tuple[list[RefiCode], list[tuple[str, list[str]]], str]:
    """A ``.qdc`` codebook: its codes, its sets of codes, and its origin."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read ({exc.strerror})") from exc
    root = parse_xml(data, str(path))
    if local(root.tag) != "CodeBook":
        raise InputError(path, f"not a REFI-QDA codebook (root element {local(root.tag)!r})")
    return read_codes(root), read_sets(root), root.get("origin", "")


def project_member(archive: Archive) -> str:
    name = archive.find("project.qde")
    if name:
        return name
    qde = [n for n in archive.names.values() if n.lower().endswith(".qde") and "/" not in n]
    if len(qde) == 1:
        return qde[0]
    raise InputError(
        archive.path,
        "not a REFI-QDA project: no project.qde"
        + (f" (and {len(qde)} other .qde files)" if qde else ""),
    )


def read_project(archive: Archive, offsets: str = "auto") -> RefiProject:
    member = project_member(archive)
    root = parse_xml(archive.read(member), f"{archive.path}!{member}")
    if local(root.tag) != "Project":
        raise InputError(
            f"{archive.path}!{member}", f"root element is {local(root.tag)!r}, not Project"
        )
    origin = root.get("origin", "")
    unit = offsets if offsets != "auto" else ("utf16" if "nvivo" in origin.lower() else "codepoint")
    users_node = child(root, "Users")
    users = {
        u.get("guid", "").strip("{}").lower(): u.get("name") or u.get("id") or u.get("guid", "")
        for u in (children(users_node, "User") if users_node is not None else [])
    }
    project = RefiProject(
        name=root.get("name", ""),
        origin=origin,
        users=users,
        codes=read_codes(root),
        sources=[],
        sets=read_sets(root),
        description=text_of(root, "Description"),
        offsets=unit,
        all_sets=count_sets(root),
    )
    notes = child(root, "Notes")
    for note in children(notes, "Note") if notes is not None else []:
        project.notes[note.get("guid", "").strip("{}").lower()] = text_of(note, "PlainTextContent")
    variables = _variables(root)
    sources = child(root, "Sources")
    for node in list(sources) if sources is not None else []:
        kind = local(node.tag)
        if kind != "TextSource":
            project.skipped.append(f"{node.get('name') or node.get('guid')} ({kind})")
            continue
        project.sources.append(_source(archive, node, unit, project, variables))
    return project


def _variables(root: Element) -> dict[str, str]:
    holder = child(root, "Variables")
    return {
        v.get("guid", "").strip("{}").lower(): v.get("name", "")
        for v in (children(holder, "Variable") if holder is not None else [])
    }


def _source(
    archive: Archive, node: Element, unit: str, project: RefiProject, variables: dict[str, str]
) -> RefiSource:
    guid = node.get("guid", "").strip("{}").lower()
    path = node.get("plainTextPath") or ""
    name = node.get("name") or Path(path.removeprefix("internal://")).stem or guid
    raw, problem = _source_text(archive, node, path)
    source = RefiSource(guid=guid, name=name, text=None, problem=problem)
    for value in children(node, "VariableValue"):
        ref = child(value, "VariableRef")
        key = variables.get((ref.get("targetGUID") or "").lower()) if ref is not None else None
        found = next((c for c in value if local(c.tag) != "VariableRef"), None)
        if key and found is not None and found.text:
            source.variables[key] = found.text.strip()
    if raw is not None and not raw.strip():
        source.problem = "empty text"
        raw = None
    to_text = OffsetMap(raw, unit) if raw is not None else None
    if to_text is not None:
        source.text = to_text.text
    for sel in children(node, "PlainTextSelection"):
        project.selections += 1
        codings = [
            RefiCoding(
                code=(ref.get("targetGUID") or "").strip("{}").lower(),
                user=(sel.get("creatingUser") or coding.get("creatingUser") or "").lower() or None,
                note=" ".join(
                    project.notes.get((n.get("targetGUID") or "").lower(), "")
                    for n in children(coding, "NoteRef")
                ).strip(),
            )
            for coding in children(sel, "Coding")
            if (ref := child(coding, "CodeRef")) is not None
        ]
        project.codings += len(codings)
        if to_text is None:
            continue
        try:
            start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
        except ValueError as exc:
            raise InputError(
                f"{archive.path}!project.qde",
                f"selection {sel.get('guid')} has no whole-number startPosition/endPosition",
            ) from exc
        source.selections.append(
            RefiSelection(
                guid=sel.get("guid", "").lower(),
                start=to_text(start),
                end=to_text(end),
                codings=codings,
                description=text_of(sel, "Description"),
            )
        )
    return source


def _source_text(archive: Archive, node: Element, path: str) -> tuple[str | None, str | None]:
    """The raw text (BOM dropped, line ends kept) of a source, or why there is none."""
    inline = child(node, "PlainTextContent")
    if inline is not None and inline.text:
        return inline.text, None
    if not path:
        rich = node.get("richTextPath") or ""
        if rich.lower().endswith(".docx"):
            return _docx_text(archive, rich)
        return None, "no plain text (neither plainTextPath nor PlainTextContent)"
    bare = path.removeprefix("internal://")
    if path.startswith(("file://", "absolute://", "relative://")):
        return None, f"its text is outside the project file ({path})"
    member = archive.find(f"sources/{bare}") or archive.find(bare)
    if member is None:
        return None, f"its text {path!r} is missing from the project file"
    data = archive.read(member)
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        try:
            return data.decode("utf-16"), None
        except UnicodeDecodeError:
            return None, f"{member} is not UTF-8 text"


def _docx_text(archive: Archive, rich: str) -> tuple[str | None, str | None]:
    import io

    import docx

    member = archive.find(f"sources/{rich.removeprefix('internal://')}")
    if member is None:
        return None, f"its text {rich!r} is missing from the project file"
    try:
        document = docx.Document(io.BytesIO(archive.read(member)))
    except Exception as exc:  # python-docx raises several kinds for a damaged file
        return None, f"{member} is not a readable .docx ({type(exc).__name__})"
    return "\n\n".join(p.text for p in document.paragraphs), None


class OffsetMap:
    """Converts a tool's offsets on the raw text into offsets on qualcode's normalised text."""

    def __init__(self, raw: str, unit: str) -> None:
        raw = raw.removeprefix("\ufeff")
        self.unit = unit
        # Code point index in the raw text of each UTF-16 unit boundary.
        self.utf16 = None
        if unit == "utf16":
            widths = [2 if ord(ch) > 0xFFFF else 1 for ch in raw]
            self.utf16 = [0]
            for w in widths:
                self.utf16.append(self.utf16[-1] + w)
        # Raw code point -> normalised offset, built piece by piece: line ends, then each
        # run of a starter and its combining marks composed on its own.
        self.starts: list[int] = []  # raw offsets where pieces start
        self.targets: list[int] = []  # and where they land
        out: list[str] = []
        length = 0
        i = 0
        n = len(raw)
        while i < n:
            j = i + 1
            if raw[i] == "\r":
                piece = "\n"
                if j < n and raw[j] == "\n":
                    j += 1
            else:
                while j < n and unicodedata.combining(raw[j]):
                    j += 1
                piece = unicodedata.normalize("NFC", raw[i:j])
            self.starts.append(i)
            self.targets.append(length)
            out.append(piece)
            length += len(piece)
            i = j
        self.starts.append(n)
        self.targets.append(length)
        self.text = "".join(out)

    def __call__(self, offset: int) -> int:
        if self.utf16 is not None:
            offset = bisect_right(self.utf16, max(offset, 0)) - 1
        offset = min(max(offset, 0), self.starts[-1])
        k = bisect_right(self.starts, offset) - 1
        return self.targets[k]


def describe(project: RefiProject) -> dict[str, Any]:
    """The counts a user checks an import against (what the file holds)."""
    return {
        "origin": project.origin,
        "sources": len(project.sources) + len(project.skipped),
        "text_sources": len(project.sources),
        "codes": len(project.codes),
        "users": len(project.users),
        "selections": project.selections,
        "codings": project.codings,
        "sets": project.all_sets,
        "offsets": project.offsets,
    }
