"""Manifests: per-file metadata (site, participant, group, tier, ...) in YAML or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qualcode.errors import ManifestError
from qualcode.textio import check_yaml, decode, normalise, yaml_problem
from qualcode.types import CONSENT_VALUES, TIERS

MANIFEST_NAMES = ("manifest.yaml", "manifest.yml", "manifest.csv")
# Fields a manifest entry (or a transcript's front matter) may carry.
FIELDS = (
    "file",
    "site",
    "participant",
    "stakeholder_group",
    "role",
    "organisation",
    "tier",
    "wave",
    "date",
    "consent",
    "language",
    "notes",
    "interviewer_labels",
    "text_column",
    "id_column",
)


@dataclass(slots=True)
class ManifestEntry:
    file: Path
    fields: dict[str, Any]
    line: int


@dataclass(slots=True)
class Manifest:
    path: Path
    entries: dict[Path, ManifestEntry] = field(default_factory=dict)
    interviewer_labels: tuple[str, ...] | None = None
    codings: dict[str, Path] = field(default_factory=dict)  # coder name -> coding CSV
    reference_coder: str | None = None  # the human coder audits compare others with

    @property
    def root(self) -> Path:
        return self.path.parent

    def entry_for(self, file: Path) -> ManifestEntry | None:
        return self.entries.get(file.resolve())


def validate_fields(
    fields: dict[str, Any],
    origin: Path | str,
    line: int | None,
    prefix: str = "",
    lines: dict[str, int] | None = None,
) -> None:
    """Check values shared by manifests and front matter: tier, consent, label lists.

    ``tier`` and ``consent`` are case-insensitive and are stored in lower case. ``lines`` gives
    the line of each field where it is known, so the error points at the field itself.
    """

    def fail(name: str, reason: str) -> ManifestError:
        return ManifestError(
            origin, reason, line=(lines or {}).get(name, line), field=f"{prefix}{name}"
        )

    for name, allowed in (("tier", TIERS), ("consent", CONSENT_VALUES)):
        value = fields.get(name)
        if value is None:
            continue
        normal = str(value).strip().lower()
        if normal not in allowed:
            raise fail(name, f"{name} {value!r} is not one of {', '.join(allowed)}")
        fields[name] = normal
    labels = fields.get("interviewer_labels")
    if labels is not None and not isinstance(labels, list | tuple):
        raise fail("interviewer_labels", "interviewer_labels must be a list")


def load_manifest(path: Path, roots: tuple[Path, ...] = ()) -> Manifest:
    """Read a YAML or CSV manifest; every problem names the manifest's line and field.

    The files it names must lie inside its folder or inside one of ``roots`` (the folders and
    files the user named on the command line)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ManifestError(path, f"cannot read ({exc.strerror})") from exc
    text = normalise(decode(data, path))
    if path.suffix.lower() == ".csv":
        rows = _csv_rows(text, path)
        manifest = Manifest(path)
    else:
        rows, manifest = _yaml_rows(text, path, roots)
    csv_manifest = path.suffix.lower() == ".csv"
    for index, (line, fields, lines) in enumerate(rows):
        prefix = "" if csv_manifest else f"documents[{index}]."
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise ManifestError(
                path,
                f"unknown field (known: {', '.join(FIELDS)})",
                line=lines.get(unknown[0], line),
                field=prefix + unknown[0],
            )
        name = fields.get("file")
        if not name:
            raise ManifestError(path, "missing", line=line, field=prefix + "file")
        file = inside(path, name, roots, line=lines.get("file", line), field=prefix + "file")
        if file in manifest.entries:
            raise ManifestError(
                path,
                f"file {name!r} is listed twice (first at line {manifest.entries[file].line})",
                line=lines.get("file", line),
                field=prefix + "file",
            )
        validate_fields(fields, path, line, prefix, lines)
        clean = {k: v for k, v in fields.items() if v not in (None, "") and k != "file"}
        manifest.entries[file] = ManifestEntry(file=file, fields=clean, line=line)
    _check_pseudonym_sites(manifest)
    return manifest


def _check_pseudonym_sites(manifest: Manifest) -> None:
    sites: dict[str, tuple[str, int]] = {}
    for entry in manifest.entries.values():
        pseudonym, site = entry.fields.get("participant"), entry.fields.get("site")
        if not pseudonym or not site:
            continue
        key = str(pseudonym)
        if key in sites and sites[key][0] != str(site):
            raise ManifestError(
                manifest.path,
                f"participant {key!r} is at site {site!r} here but at {sites[key][0]!r} on line "
                f"{sites[key][1]}; one pseudonym cannot belong to two sites",
                line=entry.line,
                field="participant",
            )
        sites.setdefault(key, (str(site), entry.line))


def _csv_rows(text: str, path: Path) -> list[tuple[int, dict[str, Any], dict[str, int]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = []
    try:
        for row in reader:
            if None in row:
                raise ManifestError(path, "more fields than the header has", line=reader.line_num)
            fields = {k.strip(): (v or "").strip() for k, v in row.items()}
            rows.append((reader.line_num, fields, dict.fromkeys(fields, reader.line_num)))
    except csv.Error as exc:
        raise ManifestError(path, f"malformed CSV ({exc})", line=reader.line_num) from exc
    if not reader.fieldnames or "file" not in [f.strip() for f in reader.fieldnames]:
        raise ManifestError(path, "the header must have a 'file' column", line=1, field="file")
    return rows


def _yaml_header(
    data: dict[str, Any], path: Path, manifest: Manifest, roots: tuple[Path, ...]
) -> None:
    """Check the top-level fields of a YAML manifest other than its documents."""
    known = {"documents", "defaults", "interviewer_labels", "codings", "reference_coder"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ManifestError(path, "unknown top-level field", field=unknown[0])
    if not isinstance(data.get("defaults") or {}, dict):
        raise ManifestError(path, "must be a mapping", field="defaults")
    labels = data.get("interviewer_labels")
    if labels is not None:
        if not isinstance(labels, list):
            raise ManifestError(path, "must be a list", field="interviewer_labels")
        manifest.interviewer_labels = tuple(str(x) for x in labels)
    codings = data.get("codings") or {}
    if not isinstance(codings, dict):
        raise ManifestError(path, "must map coder names to coding CSV files", field="codings")
    for coder, name in codings.items():
        manifest.codings[str(coder)] = inside(path, name, roots, field=f"codings.{coder}")
    reference = data.get("reference_coder")
    if reference is not None:
        if not isinstance(reference, str) or not reference.strip():
            raise ManifestError(path, "must be a coder's name", field="reference_coder")
        if manifest.codings and reference not in manifest.codings:
            raise ManifestError(
                path,
                f"{reference!r} is not one of the coders under codings: "
                f"({', '.join(sorted(manifest.codings))})",
                field="reference_coder",
            )
        manifest.reference_coder = reference.strip()


def inside(
    manifest: Path,
    name: object,
    roots: tuple[Path, ...] = (),
    *,
    line: int | None = None,
    field: str,
) -> Path:
    """A file the manifest names, resolved (links followed); refused unless it exists and lies
    inside the manifest's folder or a path named on the command line. Its content is never
    shown: a path outside (``/etc/passwd``, ``../../secrets.csv``, a link out) is refused by
    name only."""
    root = manifest.parent.resolve()
    file = (manifest.parent / str(name)).resolve()
    allowed = [root, *(r.resolve() for r in roots)]
    if not any(file == r or r in file.parents for r in allowed):
        raise ManifestError(
            manifest,
            f"file {str(name)!r} is outside the manifest's folder {root}; move it in, or name "
            "it on the command line",
            line=line,
            field=field,
        )
    if not file.is_file():
        raise ManifestError(manifest, f"file {str(name)!r} does not exist", line=line, field=field)
    return file


def _yaml_rows(
    text: str, path: Path, roots: tuple[Path, ...]
) -> tuple[list[tuple[int, dict[str, Any], dict[str, int]]], Manifest]:
    try:
        check_yaml(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        problem, line = yaml_problem(exc)
        raise ManifestError(path, f"not valid YAML ({problem})", line=line) from exc
    manifest = Manifest(path)
    if isinstance(data, list):
        entries, entry_nodes, defaults = data, node.value, {}
    elif isinstance(data, dict) and isinstance(data.get("documents"), list):
        entries = data["documents"]
        entry_nodes = next(v for k, v in node.value if k.value == "documents").value
        defaults = data.get("defaults") or {}
        _yaml_header(data, path, manifest, roots)
    else:
        raise ManifestError(path, "expected a list of entries or a mapping with 'documents'")
    rows = []
    for index, (entry, entry_node) in enumerate(zip(entries, entry_nodes, strict=True)):
        line = entry_node.start_mark.line + 1
        if not isinstance(entry, dict):
            raise ManifestError(
                path, "each entry must be a mapping", line=line, field=f"documents[{index}]"
            )
        lines = {
            str(k.value): k.start_mark.line + 1
            for k, _ in getattr(entry_node, "value", [])
            if isinstance(entry_node, yaml.MappingNode)
        }
        rows.append((line, {**defaults, **entry}, lines))
    return rows, manifest


def find_manifest(folder: Path) -> Path | None:
    for name in MANIFEST_NAMES:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None
