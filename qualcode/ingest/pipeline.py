"""Ingest files into the store: read and validate everything first, then write once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qualcode.errors import EmptyCorpusError, InputError, TranscriptError
from qualcode.ingest.manifest import (
    MANIFEST_NAMES,
    Manifest,
    ManifestEntry,
    find_manifest,
    load_manifest,
    validate_fields,
)
from qualcode.ingest.options import ReadOptions
from qualcode.ingest.responses import iter_csv
from qualcode.ingest.turns import DEFAULT_INTERVIEWER_LABELS
from qualcode.ingest.writer import CHUNK, DocumentWriter
from qualcode.limits import TURNS
from qualcode.store import Store
from qualcode.store import queries as q
from qualcode.types import ParsedDocument

# A folder walk never takes files whose names start with these for transcripts.
SKIP_PREFIXES = ("readme", "license", "licence", "changelog", "manifest")
PARTICIPANT_FIELDS = ("site", "stakeholder_group", "role", "organisation", "tier")


@dataclass(slots=True)
class IngestReport:
    run_id: int | None = None
    files: int = 0  # files read and stored
    added: list[tuple[str, int]] = field(default_factory=list)  # (document, segments)
    unchanged: list[str] = field(default_factory=list)  # files
    replaced: list[tuple[str, int]] = field(default_factory=list)  # (document, codings dropped)
    withdrawn: list[tuple[str, int, int]] = field(default_factory=list)  # (doc, segments, codings)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (document, message)
    codings: dict[str, Path] = field(default_factory=dict)  # manifests' human coding files
    reference_coder: str | None = None  # a manifest's reference_coder, if one names it
    deleted_outputs: list[str] = field(default_factory=list)  # files a withdrawal deleted


@dataclass(slots=True)
class _Planned:
    file: Path  # resolved
    key: str
    entry: ManifestEntry | None
    manifest: Manifest | None


@dataclass(frozen=True, slots=True)
class _Settings:
    site: str | None
    replace: bool
    text_column: str | None
    id_column: str | None
    interviewer_labels: tuple[str, ...] | None


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:  # a megabyte at a time: a CSV may be larger than memory
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _Planner:
    """Decides which files to read, under which key, with which manifest entry.

    Each folder uses its own manifest (or the one given with --manifest); a single file uses the
    nearest manifest above it that lists it, so that it gets the same key and metadata as when
    its whole folder is ingested.
    """

    def __init__(
        self,
        manifest_path: Path | None,
        readers: dict[str, Any],
        report: IngestReport,
        roots: Sequence[str | Path] = (),
    ):
        # Paths the user named: a manifest may list files inside these as well as its own folder.
        self.roots = tuple(Path(r) for r in roots)
        self.explicit = load_manifest(Path(manifest_path), self.roots) if manifest_path else None
        self.readers = readers
        self.report = report
        self.cache: dict[Path, Manifest] = {}
        self.planned: list[_Planned] = []
        self.seen: set[Path] = set()
        self.keys: dict[str, Path] = {}

    def _manifest(self, path: Path) -> Manifest:
        resolved = path.resolve()
        if resolved not in self.cache:
            self.cache[resolved] = load_manifest(_shown(resolved), self.roots)
        return self.cache[resolved]

    def add(self, given: Path) -> None:
        if not given.exists():
            raise InputError(given, "no such file or folder")
        if given.is_file() and (
            given.name.lower() in MANIFEST_NAMES or given.suffix.lower() in (".yaml", ".yml")
        ):
            # `qualcode ingest study/manifest.yaml` means: ingest what the manifest lists.
            manifest = self._manifest(given)
            self._folder(manifest.root, manifest)
        elif given.is_dir():
            found = find_manifest(given)
            manifest = self.explicit or (self._manifest(found) if found else None)
            self._folder(given, manifest or self._enclosing(given.resolve()))
        else:
            self._file(given)

    def _enclosing(self, path: Path) -> Manifest | None:
        """The nearest manifest above ``path`` that lists it (a file) or files inside it."""
        for folder in path.parents:
            found = find_manifest(folder)
            if found:
                manifest = self._manifest(found)
                if any(_within(f, path) for f in manifest.entries):
                    return manifest
        return None

    def _folder(self, folder: Path, manifest: Manifest | None) -> None:
        folder = folder.resolve()
        if manifest and manifest.entries:
            files = sorted(f for f in manifest.entries if _within(f, folder))
            listed = set(files)
            listed |= set(manifest.codings.values())
            for extra in _walk(folder, self.readers, self.report):
                if extra not in listed:
                    self.report.skipped.append((str(_shown(extra)), "not listed in the manifest"))
            root = manifest.root.resolve()
        else:
            files = list(_walk(folder, self.readers, self.report))
            root = folder
        for f in files:
            self._plan(f, root, manifest)

    def _file(self, given: Path) -> None:
        if given.suffix.lower() not in self.readers:
            raise InputError(
                given,
                f"unknown file type {given.suffix or '(none)'!r}; qualcode reads "
                + ", ".join(sorted(self.readers)),
            )
        f = given.resolve()
        manifest = self.explicit or self._enclosing(f)
        in_manifest = manifest is not None and _within(f, manifest.root.resolve())
        self._plan(f, manifest.root.resolve() if in_manifest else f.parent, manifest)

    def _plan(self, f: Path, root: Path, manifest: Manifest | None) -> None:
        if f in self.seen:
            return
        self.seen.add(f)
        entry = manifest.entry_for(f) if manifest else None
        key = _key(f, root)
        if key in self.keys:
            raise InputError(
                _shown(f),
                f"would be stored as {key!r}, the same name as {_shown(self.keys[key])}; "
                "give one of them another name (or ingest from a folder that keeps them apart)",
            )
        self.keys[key] = f
        self.planned.append(_Planned(f, key, entry, manifest))


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


def _walk(folder: Path, readers: dict[str, Any], report: IngestReport) -> Iterable[Path]:
    """Transcripts in ``folder``; a link that leads outside it is skipped, never followed."""
    for f in sorted(folder.rglob("*")):
        rel = f.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or not f.is_file():
            continue
        if f.suffix.lower() not in readers or f.name.lower().startswith(SKIP_PREFIXES):
            continue
        target = f.resolve()
        if not _within(target, folder.resolve()):
            report.skipped.append((str(_shown(f)), "a link to a file outside the folder"))
            continue
        yield target


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
    chunk: int = CHUNK,
) -> IngestReport:
    """Read, validate and store transcripts; all or nothing.

    Every file is checked before the first write; documents are read and written in chunks of
    ``chunk`` inside one transaction, which a bad file rolls back, so it leaves the project
    exactly as it was.
    """
    from qualcode.ingest import READERS

    report = IngestReport()
    planner = _Planner(Path(manifest_path) if manifest_path else None, READERS, report, paths)
    for given in paths:
        planner.add(Path(given))
    if not planner.planned:
        raise EmptyCorpusError("no transcripts found in " + ", ".join(str(p) for p in paths))
    for manifest in [*planner.cache.values(), planner.explicit]:
        if manifest is not None:
            report.codings.update(manifest.codings)
            report.reference_coder = manifest.reference_coder or report.reference_coder
    settings = _Settings(
        site=site,
        replace=replace,
        text_column=text_column,
        id_column=id_column,
        interviewer_labels=tuple(interviewer_labels) if interviewer_labels else None,
    )
    # Files are checked (unchanged, removed, replaced) before the transaction; their documents
    # are read and written inside it, a chunk at a time, so a large survey is never held in
    # memory whole. A bad row raises inside the transaction, which rolls back: still all or
    # nothing.
    to_read, to_replace, to_withdraw = _check_all(store, planner, settings, report)

    if not to_read and not to_replace and not to_withdraw:
        return _nothing_written(store, report, planner)

    parameters = {
        "paths": [str(p) for p in paths],
        "manifest": str(manifest_path) if manifest_path else None,
        "site": site,
        "replace": replace,
        "text_column": text_column,
        "id_column": id_column,
    }
    try:
        with store.atomic():
            report.run_id = q.start_run(store, command, parameters)
            _keep_reference(store, report)
            if to_withdraw:
                removal = q.remove_documents(
                    store, to_withdraw, reason="consent withdrawn (manifest)", run_id=report.run_id
                )
                report.withdrawn.append(
                    (", ".join(removal.documents), removal.segments, removal.codings)
                )
            q.delete_documents(store, to_replace)
            written = _write(store, report, to_read, settings, chunk, progress, planner)
            if not written and not to_replace and not to_withdraw:
                raise _NothingToWrite
            q.finish_run(store, report.run_id)
    except _NothingToWrite:
        report.run_id = None
        return _nothing_written(store, report, planner)
    if to_withdraw:
        q.purge_free_pages(store)
        report.deleted_outputs = q.delete_outputs(removal.outputs)
    return report


def _write(store, report, to_read, settings, chunk, progress, planner) -> int:
    """Read the checked files' documents and write them a chunk at a time; how many."""
    writer = DocumentWriter(store, report.run_id, chunk=chunk)
    sources: set[str] = set()
    for item, fields, sha in to_read:
        if progress:
            progress(item.key, len(planner.planned))
        for doc, doc_site in _read_checked(item, fields, settings, report):
            writer.add(doc, sha, doc_site)
            sources.add(doc.source)
            report.added.append((doc.path, len(doc.segments)))
    writer.flush()
    report.files = len(sources)
    return writer.written


def _check_all(store, planner, settings, report):
    """Files to read (with their fields and hashes), documents they replace, and documents to
    withdraw."""
    to_read: list[tuple[_Planned, dict[str, Any], str]] = []
    to_replace: list[int] = []
    to_withdraw: list[Any] = []
    for item in planner.planned:
        checked = _check_planned(store, item, settings, report)
        if checked is None:
            continue
        fields, sha, replaced, withdraw = checked
        if sha is not None:
            to_read.append((item, fields, sha))
        to_replace.extend(replaced)
        to_withdraw.extend(withdraw)
    return to_read, to_replace, to_withdraw


class _NothingToWrite(Exception):
    """Every document read was refused: roll back the run that was started for them."""


def _nothing_written(store: Store, report: IngestReport, planner: _Planner) -> IngestReport:
    if report.refused and len(report.refused) >= len(planner.planned):
        raise InputError(report.refused[0][0], f"not ingested: {report.refused[0][1]}")
    _keep_reference(store, report)
    return report


def _keep_reference(store: Store, report: IngestReport) -> None:
    """Keep a manifest's reference coder as a project setting (even when no file changed), so
    that a later ``qualcode report`` uses it too."""
    if report.reference_coder and report.reference_coder != q.get_setting(store, "reference_coder"):
        with store.atomic():
            q.set_setting(store, "reference_coder", report.reference_coder)


def _check_planned(
    store: Store, item: _Planned, settings: _Settings, report: IngestReport
) -> tuple[dict[str, Any], str | None, list[int], list[Any]] | None:
    """Decide what to do with one planned file before anything is written.

    Returns None when it is left alone (removed, unchanged, a copy); else its manifest fields,
    its hash (None: not to be read, only withdrawn), ids of documents it replaces, and stored
    documents to remove because the manifest now says the participant withdrew.
    """
    fields = dict(item.entry.fields) if item.entry else {}
    existing = _existing(store, item.key)
    if fields.get("consent") == "withdrawn":
        report.refused.append((item.key, "consent withdrawn"))
        return fields, None, [], existing
    sha = _sha256(item.file)
    removed = q.removed_record(store, item.key, sha)
    if removed and not existing:
        report.refused.append(
            (
                item.key,
                f"removed from this project on {removed['removed_at'][:10]} "
                f"({removed['reason']}); it is not ingested again",
            )
        )
        return None
    if existing and all(row["sha256"] == sha for row in existing):
        report.unchanged.append(item.key)
        return None
    same = store.execute("SELECT path FROM documents WHERE sha256 = ? LIMIT 1", (sha,)).fetchone()
    if not existing and same:
        report.skipped.append((item.key, f"same content as {same['path']}, already ingested"))
        return None
    existing_ids = [r["id"] for r in existing]
    if existing and not settings.replace:
        raise InputError(
            _shown(item.file),
            f"differs from the document ingested as {item.key!r}; if it is the same interview "
            f"revised, use --replace (drops {q.count_codings(store, existing_ids)} codings); "
            "if it is another interview, give it another name",
        )
    if existing:
        report.replaced.append((item.key, q.count_codings(store, existing_ids)))
    return fields, sha, existing_ids, []


def _read_checked(
    item: _Planned, fields: dict[str, Any], settings: _Settings, report: IngestReport
) -> Iterator[tuple[ParsedDocument, str | None]]:
    """The documents of one checked file, one at a time, with their sites; refusals and
    warnings go to the report as they are met."""
    siteless = 0
    first: ParsedDocument | None = None
    noted = 0
    for doc, doc_site in _read_file(item, fields, settings):
        if first is None:
            first, noted = doc, len(doc.warnings)
        if doc.metadata.get("consent") == "withdrawn":
            report.refused.append((doc.path, "consent withdrawn"))
            continue
        report.warnings.extend((doc.path, message) for message in doc.warnings)
        if doc.segments and all(seg.is_interviewer for seg in doc.segments):
            report.warnings.append(
                (
                    doc.path,
                    "every turn is an interviewer's, so nothing in it will be coded; check the "
                    "speaker labels (a label counts when it begins two or more lines, holds a "
                    "digit such as P3 or HOL-01, carries a bracketed role, or opens a paragraph "
                    "after a blank line in an interviewer's turn)",
                )
            )
        siteless += doc_site is None
        yield doc, doc_site
    if first is not None and first.metadata.get("consent") != "withdrawn":
        # A survey's count of empty responses reaches its first document at the end of the file.
        report.warnings.extend((first.path, m) for m in first.warnings[noted:])
    if siteless:
        # One line per file, not one per survey row.
        what = f"{siteless} responses have" if item.file.suffix.lower() == ".csv" else "it has"
        report.warnings.append((item.key, f"{what} no site (manifest, front matter or --site)"))


def _read_file(
    item: _Planned, fields: dict[str, Any], settings: _Settings
) -> Iterator[tuple[ParsedDocument, str | None]]:
    """Read one file with the options its manifest entry and the settings give; a survey's
    responses come one at a time."""
    from qualcode.ingest import READERS

    labels = settings.interviewer_labels or (
        item.manifest.interviewer_labels if item.manifest else None
    )
    options = ReadOptions(
        key=item.key,
        respondent=_str(fields.get("participant")),
        interviewer_labels=tuple(
            str(x) for x in fields.get("interviewer_labels", labels or DEFAULT_INTERVIEWER_LABELS)
        ),
        text_column=settings.text_column or _str(fields.get("text_column")),
        id_column=settings.id_column or _str(fields.get("id_column")),
        defaults={k: v for k, v in fields.items() if k in PARTICIPANT_FIELDS},
    )
    shown = _shown(item.file)
    suffix = item.file.suffix.lower()
    read = iter_csv if suffix == ".csv" else READERS[suffix]
    return (
        (doc, _settle_metadata(doc, fields, settings.site, shown)) for doc in read(shown, options)
    )


def read_documents(paths: Sequence[str | Path]) -> list[ParsedDocument]:
    """Read files as ingest would, without a store: for training on a corpus on disk.

    Files and documents whose consent is withdrawn are left out.
    """
    from qualcode.ingest import READERS

    planner = _Planner(None, READERS, IngestReport(), paths)
    for given in paths:
        planner.add(Path(given))
    settings = _Settings(None, False, None, None, None)
    out = []
    for item in planner.planned:
        fields = dict(item.entry.fields) if item.entry else {}
        if fields.get("consent") == "withdrawn":
            continue
        out.extend(
            doc
            for doc, _ in _read_file(item, fields, settings)
            if doc.metadata.get("consent") != "withdrawn"
        )
    return out


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
    turns = len({s.turn_index for s in doc.segments})
    if turns > TURNS.value:
        raise TranscriptError(shown, TURNS.exceeded(turns))
    doc.check_offsets()
    return _str(meta.get("site")) or site


def _existing(store: Store, key: str) -> list[Any]:
    return store.execute(
        "SELECT id, path, sha256 FROM documents WHERE path = ? OR substr(path, 1, ?) = ?",
        (key, len(key) + 1, key + "#"),
    ).fetchall()


def _line(meta: dict[str, Any]) -> int | None:
    line = meta.get("csv_line")
    return line if isinstance(line, int) else None


def _str(value: object) -> str | None:
    return None if value is None or value == "" else str(value)
