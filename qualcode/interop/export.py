"""Writing REFI-QDA: a project (``.qdpx``) or a codebook (``.qdc``).

The project holds every document as a text source (UTF-8, offsets in code points, as qc and
QualCoder count), the codebook, the chosen coders as users, and their codings as selections:
a human coder's spans as they were made, a machine run's codings over their segments with the
evidence and confidence as a note. GUIDs are derived from ids (codes, documents, coders), so
exporting twice gives the same GUIDs and a tool that merges by GUID merges alike.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from qualcode import __version__
from qualcode.agreement.coders import CoderCodings, resolve
from qualcode.codebook import Codebook
from qualcode.coding.review import readable_why
from qualcode.errors import InputError
from qualcode.interop.codes import QUALCODE_NS, code_guid, description
from qualcode.interop.refi import CODEBOOK_NS, PROJECT_NS
from qualcode.store import Store


def _guid(kind: str, key: str) -> str:
    return str(uuid.uuid5(QUALCODE_NS, f"{kind}:{key}"))


def _codes(parent: ET.Element, codebook: Codebook, ns: str) -> None:
    codable = {c.id for c in codebook.codable}

    def add(node: ET.Element, parent_id: str | None) -> None:
        for code in codebook.children(parent_id):
            attrs = {
                "guid": code_guid(code.id, code.guid),
                "name": code.label,
                "isCodable": "true" if code.id in codable else "false",
            }
            if code.color:
                attrs["color"] = code.color
            element = ET.SubElement(node, f"{{{ns}}}Code", attrs)
            ET.SubElement(element, f"{{{ns}}}Description").text = description(code)
            add(element, code.id)

    add(ET.SubElement(parent, f"{{{ns}}}Codes"), None)


def _sets(parent: ET.Element, codebook: Codebook, ns: str, attribute: str) -> None:
    if not codebook.sets:
        return
    holder = ET.SubElement(parent, f"{{{ns}}}Sets")
    for group in codebook.sets:
        element = ET.SubElement(
            holder, f"{{{ns}}}Set", {"guid": _guid("set", group.name), "name": group.name}
        )
        if group.description:
            ET.SubElement(element, f"{{{ns}}}Description").text = group.description
        for code in group.codes:
            ET.SubElement(
                element,
                f"{{{ns}}}MemberCode",
                {attribute: code_guid(code, codebook.codes[code].guid)},
            )


def codebook_qdc(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` (namespace ``urn:QDA-XML:codebook:1.0``)."""
    ET.register_namespace("", CODEBOOK_NS)
    root = ET.Element(f"{{{CODEBOOK_NS}}}CodeBook", {"origin": f"qualcode {__version__}"})
    _codes(root, codebook, CODEBOOK_NS)
    _sets(root, codebook, CODEBOOK_NS, "guid")  # a .qdc names members by "guid"
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


@dataclass(slots=True)
class ExportReport:
    documents: int
    codes: int
    coders: list[str]
    selections: int


def export_qdpx(
    store: Store, out: Path, codebook: Codebook, coders: list[str] | None = None
) -> ExportReport:
    """Write the project as a ``.qdpx``; ``coders`` defaults to every coder with codings."""
    names = coders or [
        r[0]
        for r in store.execute(
            "SELECT DISTINCT k.name FROM coders k JOIN codings c ON c.coder_id = k.id"
            " ORDER BY k.name"
        )
    ]
    who = [resolve(store, name, field="--coder") for name in names]
    documents = store.execute("SELECT id, path, site, text FROM documents ORDER BY path").fetchall()
    if not documents:
        raise InputError(None, "the project has no documents to export")
    ET.register_namespace("", PROJECT_NS)
    ns = PROJECT_NS
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    root = ET.Element(
        f"{{{ns}}}Project",
        {"name": out.stem, "origin": f"qualcode {__version__}", "creationDateTime": now},
    )
    users = ET.SubElement(root, f"{{{ns}}}Users")
    user_guid = {}
    for c in who:
        user_guid[c.spec] = _guid("coder", c.label)
        ET.SubElement(users, f"{{{ns}}}User", {"guid": user_guid[c.spec], "name": c.label})
    if not who:
        root.remove(users)
    _codes(ET.SubElement(root, f"{{{ns}}}CodeBook"), codebook, ns)
    site_guid = _guid("variable", "site")
    if any(d["site"] for d in documents):
        variables = ET.SubElement(root, f"{{{ns}}}Variables")
        ET.SubElement(
            variables,
            f"{{{ns}}}Variable",
            {"guid": site_guid, "name": "site", "typeOfVariable": "Text"},
        )
    sources = ET.SubElement(root, f"{{{ns}}}Sources")
    notes: list[tuple[str, str, str]] = []
    members: dict[str, bytes] = {}
    selections = 0
    segments = _segments(store)
    evidence = {c.spec: _run_evidence(store, c) for c in who}
    for doc in documents:
        guid = _guid("document", doc["path"])
        members[f"sources/{guid}.txt"] = doc["text"].encode("utf-8")
        source = ET.SubElement(
            sources,
            f"{{{ns}}}TextSource",
            {"guid": guid, "name": doc["path"], "plainTextPath": f"internal://{guid}.txt"},
        )
        for c in who:
            selections += _write_selections(
                source,
                c,
                doc,
                segments.get(doc["id"], []),
                codebook,
                user_guid[c.spec],
                notes,
                evidence[c.spec],
            )
        if doc["site"]:
            value = ET.SubElement(source, f"{{{ns}}}VariableValue")
            ET.SubElement(value, f"{{{ns}}}VariableRef", {"targetGUID": site_guid})
            ET.SubElement(value, f"{{{ns}}}TextValue").text = doc["site"]
    if notes:
        holder = ET.SubElement(root, f"{{{ns}}}Notes")
        for guid, name, text in notes:
            note = ET.SubElement(holder, f"{{{ns}}}Note", {"guid": guid, "name": name})
            ET.SubElement(note, f"{{{ns}}}PlainTextContent").text = text
    _sets(root, codebook, ns, "targetGUID")
    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, data in members.items():
            archive.writestr(name, data)
    partial.replace(out)
    return ExportReport(len(documents), len(codebook.codes), [c.label for c in who], selections)


def _write_selections(
    source: ET.Element,
    c: CoderCodings,
    doc: Any,
    segments: list[Any],
    codebook: Codebook,
    user: str,
    notes: list[tuple[str, str, str]],
    evidence: dict[int, list[tuple[str, float, str]]],
) -> int:
    ns = PROJECT_NS
    written = 0
    for code, start, end, note in _selections(c, doc["id"], segments, evidence):
        if code not in codebook.codes:
            continue
        written += 1
        key = f"{c.label}:{doc['path']}:{code}:{start}:{end}"
        sel = ET.SubElement(
            source,
            f"{{{ns}}}PlainTextSelection",
            {
                "guid": _guid("selection", key),
                "name": codebook.codes[code].label,
                "startPosition": str(start),
                "endPosition": str(end),
                "creatingUser": user,
            },
        )
        coding = ET.SubElement(
            sel, f"{{{ns}}}Coding", {"guid": _guid("coding", key), "creatingUser": user}
        )
        ET.SubElement(
            coding, f"{{{ns}}}CodeRef", {"targetGUID": code_guid(code, codebook.codes[code].guid)}
        )
        if note:
            note_guid = _guid("note", key)
            notes.append((note_guid, f"{c.label}: {code}", note))
            ET.SubElement(coding, f"{{{ns}}}NoteRef", {"targetGUID": note_guid})
    return written


def _segments(store: Store) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = {}
    for r in store.execute('SELECT id, document_id, start, "end", text FROM segments'):
        out.setdefault(r["document_id"], []).append(r)
    return out


def _selections(
    c: CoderCodings,
    document: int,
    segments: list[Any],
    evidence: dict[int, list[tuple[str, float, str]]],
):
    """(code, start, end, note) of a coder's codings in one document: spans where the coder
    made them, else the coded segments, with a machine run's evidence as the note."""
    by_code: dict[str, list[tuple[int, int, str]]] = {}
    for s in segments:
        for code in c.codes.get(s["id"], ()):
            if (document, code) not in c.spans:
                by_code.setdefault(code, []).append((s["start"], s["end"], ""))
    for (doc, code), spans in c.spans.items():
        if doc == document:
            by_code.setdefault(code, []).extend((a, b, "") for a, b in spans)
    if evidence:
        notes = _evidence(c, segments, evidence)
        for code, items in by_code.items():
            by_code[code] = [(a, b, notes.get((a, code), "")) for a, b, _ in items]
    for code in sorted(by_code):
        for start, end, note in sorted(by_code[code]):
            yield code, start, end, note


def _run_evidence(store: Store, c: CoderCodings) -> dict[int, list[tuple[str, float, str]]]:
    """A machine run's (code, confidence, evidence JSON) per segment; nothing for a person."""
    out: dict[int, list[tuple[str, float, str]]] = {}
    if c.kind != "machine":
        return out
    for r in store.execute(
        "SELECT c.segment_id, k.code, c.confidence, c.evidence FROM codings c"
        " JOIN codes k ON k.id = c.code_id JOIN coders w ON w.id = c.coder_id"
        " WHERE w.name = ? AND c.run_id = ?",
        (c.name, c.run_id),
    ):
        out.setdefault(r["segment_id"], []).append((r["code"], r["confidence"], r["evidence"]))
    return out


def _evidence(
    c: CoderCodings, segments: list[Any], evidence: dict[int, list[tuple[str, float, str]]]
) -> dict[tuple[int, str], str]:
    out = {}
    for s in segments:
        for code, confidence, found in evidence.get(s["id"], []):
            quotes = "; ".join(
                f"\u201c{s['text'][e['start'] : e['end']]}\u201d: {readable_why(e['why'])}"
                for e in json.loads(found)
            )
            out[(s["start"], code)] = f"{c.label}, confidence {confidence:.2f}. {quotes}".strip()
    return out
