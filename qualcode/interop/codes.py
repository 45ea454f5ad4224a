"""Codes between REFI-QDA and qualcode's codebook YAML.

Other tools key codes by GUID (names repeat across branches), nest them freely and let a
parent be coded. A qualcode codebook keys codes by dotted ids whose first part is the family,
and codes segments with leaves only. The mapping:

- a code's id is its parent's id, a dot and a slug of its name (lower-case ASCII letters,
  digits and underscores); siblings whose names slug alike get ``_2``, ``_3``...;
- a parent code that a selection codes directly gets a leaf ``<id>.at_this_level`` that
  takes those codings;
- GUID, colour and description are kept (``guid``, ``color``, ``definition``);
- codes qualcode exported carry their id and polarity as the last line of their
  description (``[qualcode: financial.budget_constraints, barrier]``), so a round trip
  through another tool gives back the same codebook.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from typing import Any

import yaml

from qualcode.codebook import Codebook, parse_codebook
from qualcode.interop.refi import RefiCode

QUALCODE_NS = uuid.UUID("6f1d2c3e-5b7a-4c1e-9a2b-7c3d4e5f6a70")
MARKER = re.compile(r"\n*\[qualcode: ([a-z][a-z0-9_.]*), (barrier|prerequisite|neutral)\]\s*$")
AT_THIS_LEVEL = "at_this_level"


def code_guid(code_id: str, given: str | None = None) -> str:
    """A code's GUID in exports: the one it came with, else one derived from its id (stable
    across exports, so a tool that merges by GUID merges the same code)."""
    return given or str(uuid.uuid5(QUALCODE_NS, "code:" + code_id))


def description(code) -> str:
    """A code's REFI description: its definition, then the id/polarity marker."""
    marker = f"[qualcode: {code.id}, {code.polarity}]"
    return f"{code.definition}\n\n{marker}" if code.definition else marker


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")
    if not out or not out[0].isalpha():
        out = "c_" + out if out else "code"
    return out


def codebook_from_refi(
    codes: list[RefiCode],
    *,
    name: str,
    origin: str,
    coded_parents: Iterable[str] = (),
    sets: list[tuple[str, list[str]]] = (),
    source: str = "",
) -> tuple[Codebook, dict[str, str]]:
    """A qualcode codebook from REFI codes, and each code GUID's codable id in it."""
    by_guid = {c.guid: c for c in codes}
    parents = {c.parent for c in codes if c.parent}
    ids: dict[str, str] = {}
    taken: set[str] = set()
    entries: list[dict[str, Any]] = []
    polarity: dict[str, str] = {}
    for code in codes:  # document order: a parent comes before its children
        text = code.description
        marker = MARKER.search(text)
        if marker:
            wanted, polarity[code.guid] = marker.group(1), marker.group(2)
            text = text[: marker.start()].rstrip()
        prefix = ids[code.parent] + "." if code.parent in ids else ""
        base = prefix + slug(code.name)
        if (
            marker
            and wanted.startswith(prefix)
            and wanted not in taken
            and "." not in wanted[len(prefix) :]
        ):
            base = wanted
        candidate, number = base, 2
        while candidate in taken:
            candidate, number = f"{base}_{number}", number + 1
        ids[code.guid] = candidate
        taken.add(candidate)
        entry: dict[str, Any] = {
            "id": candidate,
            "label": code.name.strip() or "(unnamed)",
            "polarity": polarity.get(code.guid, "neutral"),
            "guid": code.guid,
        }
        if text:
            entry["definition"] = text
        if code.color and re.fullmatch(r"#[0-9A-Fa-f]{6}", code.color):
            entry["color"] = code.color
        entries.append(entry)
    codable = dict(ids)
    for guid in coded_parents:
        if guid in parents and guid in ids:
            leaf = f"{ids[guid]}.{AT_THIS_LEVEL}"
            entries.append(
                {
                    "id": leaf,
                    "label": f"{by_guid[guid].name.strip() or '(unnamed)'} (coded at this level)",
                    "polarity": polarity.get(guid, "neutral"),
                }
            )
            codable[guid] = leaf
    data: dict[str, Any] = {
        "name": name or "imported codebook",
        "version": None,
        "description": f"Imported from {source or 'a REFI-QDA file'}"
        + (f" made by {origin}" if origin else "")
        + ".",
        "codes": entries,
    }
    if sets:
        data["sets"] = [
            {"name": set_name, "codes": [ids[g] for g in members if g in ids]}
            for set_name, members in sets
        ]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return parse_codebook(text), codable


def codebook_ids(codebook: Codebook) -> dict[str, str]:
    """Each code's export GUID -> its id, for mapping an import back onto this codebook."""
    return {code_guid(c.id, c.guid): c.id for c in codebook.codes.values()}


def onto_codebook(codes: list[RefiCode], codebook: Codebook) -> dict[str, str] | None:
    """Each REFI code GUID's code in ``codebook`` when every code there is found (by GUID or
    by the id in its description), else None: the file's codes are another codebook."""
    known = codebook_ids(codebook)
    out: dict[str, str] = {}
    for code in codes:
        marker = MARKER.search(code.description)
        code_id = known.get(code.guid) or (marker.group(1) if marker else None)
        if code_id not in codebook.codes:
            return None
        out[code.guid] = code_id
    return out
