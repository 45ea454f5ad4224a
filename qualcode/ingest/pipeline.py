"""Ingest files into the store: read and validate everything first, then write once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.errors import EmptyCorpusError, InputError, TranscriptError
from qualcode.ingest.manifest import (
    Manifest,
    ManifestEntry,
    find_manifest,
    load_manifest,
    validate_fields,
)
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.turns import DEFAULT_INTERVIEWER_LABELS
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.types import ParsedDocument, Participant

# Files a folder walk never takes for transcripts.
SKIP_NAMES = {"readme", "license", "licence", "changelog", "manifest"}
PARTICIPANT_FIELDS = ("site", "stakeholder_group", "role", "organisation", "tier")


@dataclass(slots=True)
class IngestReport:
    run_id: int | None = None
    added: list[tuple[str, int]] = field(default_factory=list)  # (document, segments)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[tuple[str, int]] = field(default_factory=list)  # (document, codings dropped)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (document, message)


@dataclass(slots=True)
class _Planned:
    file: Path
    key: str
    entry: ManifestEntry | None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _plan(
    paths: Sequence[Path], manifest: Manifest | None, readers: dict[str, Any], report: IngestReport
) -> list[_Planned]:
    planned: list[_Planned] = []
    seen: set[Path] = set()
    for given in paths:
        if not given.exists():
            raise InputError(given, "no such file or folder")
        if given.is_dir():
            root = manifest.root if manifest else given
            if manifest and manifest.entries:
                files = sorted(f for f in manifest.entries if _within(f, given.resolve()))
                listed = set(files)
                for extra in _walk(given, readers):
                    if extra.resolve() not in listed:
                        report.skipped.append((str(extra), "not listed in the manifest"))
            else:
                files = [f.resolve() for f in _walk(given, readers)]
            for f in files:
                if f not in seen:
                    seen.add(f)
                    planned.append(_Planned(f, _key(f, root.resolve()), _entry(manifest, f)))
        else:
            if given.suffix.lower() not in readers:
                raise InputError(
                    given,
                    f"unknown file type {given.suffix or '(none)'!r}; qualcode reads "
                    + ", ".join(sorted(readers)),
                )
            f = given.resolve()
            if f not in seen:
                seen.add(f)
                root = (
                    manifest.root.resolve()
                    if manifest and _within(f, manifest.root.resolve())
                    else f.parent
                )
                planned.append(_Planned(f, _key(f, root), _entry(manifest, f)))
    return planned


def _shown(file: Path) -> Path:
    """The path as a user would type it: relative to the working folder where possible."""
    try:
        return file.relative_to(Path.cwd())
    except ValueError:
        return file


def _within(file: Path, folder: Path) -> bool:
    return file == folder or folder in file.parents


def _key(file: Path, root: Path) -> str:
    try:
        return file.relative_to(root).as_posix()
    except ValueError:
        return file.name


def _entry(manifest: Manifest | None, file: Path) -> ManifestEntry | None:
    return manifest.entry_for(file) if manifest else None


def _walk(folder: Path, readers: dict[str, Any]) -> Iterable[Path]:
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not f.is_file():
            continue
        if f.suffix.lower() not in readers or f.stem.lower() in SKIP_NAMES:
            continue
        yield f


@dataclass(frozen=True, slots=True)
class _Settings:
    site: str | None
    replace: bool
    text_column: str | None
    id_column: str | None
    interviewer_labels: tuple[str, ...]


def ingest(
    store: Store,
    paths: Sequence[str | Path],
    *,
    site: str | None = None,
    manifest_path: str | Path | None = None,
    replace: bool = False,
    text_column: str | None = None,
    id_column: str | None = None,
    interviewer_labels: Sequence[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
    command: str = "ingest",
) -> IngestReport:
    """Read, validate and store transcripts; all or nothing.

    Every file is read and checked before the first write, and the writes happen in one
    transaction, so a bad file leaves the project exactly as it was.
    """
    from qualcode.ingest import READERS

    report = IngestReport()
    path_list, manifest = _resolve_manifest([Path(p) for p in paths], manifest_path)
    planned = _plan(path_list, manifest, READERS, report)
    settings = _Settings(
        site=site,
        replace=replace,
        text_column=text_column,
        id_column=id_column,
        interviewer_labels=tuple(interviewer_labels or ())
        or (manifest.interviewer_labels if manifest and manifest.interviewer_labels else ())
        or DEFAULT_INTERVIEWER_LABELS,
    )
    to_store: list[tuple[ParsedDocument, str, str | None]] = []
    to_replace: list[int] = []
    for item in planned:
        if progress:
            progress(item.key, len(planned))
        docs, replaced = _read_planned(store, item, settings, report)
        to_store.extend(docs)
        to_replace.extend(replaced)

    if not to_store and not report.unchanged:
        if report.refused:
            raise InputError(report.refused[0][0], "not ingested: consent withdrawn")
        raise EmptyCorpusError("no transcripts found in " + ", ".join(str(p) for p in paths))
    if not to_store and not to_replace:
        return report

    with store.atomic():
        parameters = {
            "paths": [str(p) for p in paths],
            "manifest": str(manifest.path) if manifest else None,
            "site": site,
            "replace": replace,
            "text_column": text_column,
            "id_column": id_column,
        }
        report.run_id = q.start_run(store, command, parameters)
        q.delete_documents(store, to_replace)
        for doc, sha, doc_site in to_store:
            q.insert_document(
                store,
                doc,
                sha256=sha,
                site=doc_site,
                participant_ids=_participants(store, doc, doc_site),
                document_participant=_str(doc.metadata.get("participant")),
                run_id=report.run_id,
            )
            report.added.append((doc.path, len(doc.segments)))
        q.finish_run(store, report.run_id)
    return report


def _resolve_manifest(
    paths: list[Path], manifest_path: str | Path | None
) -> tuple[list[Path], Manifest | None]:
    if manifest_path is None and len(paths) == 1 and paths[0].suffix.lower() in (".yaml", ".yml"):
        # `qualcode ingest study/manifest.yaml` means: ingest what the manifest lists.
        return [paths[0].parent], load_manifest(paths[0])
    if manifest_path is not None:
        return paths, load_manifest(Path(manifest_path))
    if len(paths) == 1 and paths[0].is_dir():
        found = find_manifest(paths[0])
        return paths, load_manifest(found) if found else None
    return paths, None


def _read_planned(
    store: Store, item: _Planned, settings: _Settings, report: IngestReport
) -> tuple[list[tuple[ParsedDocument, str, str | None]], list[int]]:
    """Read one planned file unless it is withdrawn or unchanged; return documents to store
    and the ids of the documents they replace."""
    from qualcode.ingest import READERS

    fields = dict(item.entry.fields) if item.entry else {}
    if fields.get("consent") == "withdrawn":
        report.refused.append((item.key, "consent withdrawn"))
        return [], []
    sha = _sha256(item.file)
    existing = _existing(store, item.key)
    if existing and all(row["sha256"] == sha for row in existing):
        report.unchanged.append(item.key)
        return [], []
    same = store.execute("SELECT path FROM documents WHERE sha256 = ? LIMIT 1", (sha,)).fetchone()
    if not existing and same:
        report.unchanged.append(f"{item.key} (already ingested as {same['path']})")
        return [], []
    existing_ids = [r["id"] for r in existing]
    if existing and not settings.replace:
        raise InputError(
            _shown(item.file),
            f"changed since it was ingested as {item.key!r}; use --replace to re-ingest "
            f"it (drops {q.count_codings(store, existing_ids)} codings)",
        )
    options = ReadOptions(
        key=item.key,
        respondent=_str(fields.get("participant")),
        interviewer_labels=tuple(
            str(x) for x in fields.get("interviewer_labels", settings.interviewer_labels)
        ),
        text_column=settings.text_column or _str(fields.get("text_column")),
        id_column=settings.id_column or _str(fields.get("id_column")),
        defaults={k: v for k, v in fields.items() if k in PARTICIPANT_FIELDS},
    )
    shown = _shown(item.file)
    docs = []
    for doc in READERS[item.file.suffix.lower()](shown, options):
        doc_site = _settle_metadata(doc, fields, settings.site, shown)
        if doc.metadata.get("consent") == "withdrawn":
            report.refused.append((doc.path, "consent withdrawn"))
            continue
        report.warnings.extend((doc.path, message) for message in doc.warnings)
        if doc_site is None:
            report.warnings.append((doc.path, "no site given (manifest, front matter or --site)"))
        docs.append((doc, sha, doc_site))
    if existing:
        report.replaced.append((item.key, q.count_codings(store, existing_ids)))
    return docs, existing_ids


def _settle_metadata(
    doc: ParsedDocument, fields: dict[str, Any], site: str | None, shown: Path
) -> str | None:
    """Merge and check a document's metadata; return its site.

    Precedence: the manifest entry, then the file's own front matter, then --site. Survey
    rows already took the entry's fields as defaults under their own columns.
    """
    meta = dict(doc.metadata) if doc.format == "csv" else {**doc.metadata, **fields}
    validate_fields(meta, shown, _line(meta))
    for transient in ("interviewer_labels", "text_column", "id_column"):
        meta.pop(transient, None)
    doc.metadata = meta
    if not doc.segments:
        raise TranscriptError(shown, "no text to segment")
    doc.check_offsets()
    return _str(meta.get("site")) or site


def _existing(store: Store, key: str) -> list[Any]:
    return store.execute(
        "SELECT id, path, sha256 FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
        (key, len(key) + 1, key + "#"),
    ).fetchall()


def _participants(store: Store, doc: ParsedDocument, site: str | None) -> dict[str, int]:
    meta = doc.metadata
    pseudonyms = {s.participant for s in doc.segments if s.participant}
    main = _str(meta.get("participant"))
    if main:
        pseudonyms.add(main)
    ids = {}
    for pseudonym in sorted(pseudonyms):
        person = Participant(pseudonym=pseudonym, site=site)
        if pseudonym == main:
            for f in PARTICIPANT_FIELDS[1:]:
                setattr(person, f, _str(meta.get(f)))
        ids[pseudonym] = q.upsert_participant(store, person, origin=doc.source)
    return ids


def _line(meta: dict[str, Any]) -> int | None:
    line = meta.get("csv_line")
    return line if isinstance(line, int) else None


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
