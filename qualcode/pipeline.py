"""The main job, stage by stage: files -> store -> coders -> store (later: analyses, report)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.coding.project import (
    CodeReport,
    ImportReport,
    code_project,
    import_codings,
    imported_unchanged,
    resolve_codebook,
)
from qualcode.errors import InputError
from qualcode.ingest import IngestReport, ingest
from qualcode.store import Store, open_or_create

PROJECT_FILE = "qualcode.db"


@dataclass(slots=True)
class RunResult:
    project: Path
    ingest: IngestReport
    imports: list[ImportReport] = field(default_factory=list)
    coding: CodeReport | None = None


def run(
    corpus: str | Path,
    out: str | Path,
    *,
    replace: bool = False,
    progress: Callable[..., None] | None = None,
    coding_progress: Callable[[int, int], None] | None = None,
) -> tuple[Store, RunResult]:
    """Create (or reuse) the project in ``out`` and run every stage on ``corpus``:
    ingest, import the human codings its manifest lists, and code with the hybrid coder.

    Returns the open store so the caller can report on it; the caller closes it.
    """
    corpus, out = Path(corpus), Path(out)
    if not corpus.is_dir():
        raise InputError(corpus, "not a folder; give the corpus folder (with its manifest)")
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    project = out / PROJECT_FILE
    created = not project.exists()
    store = open_or_create(project)
    try:
        report = ingest(store, [corpus], replace=replace, progress=progress, command="run")
        result = RunResult(project=project, ingest=report)
        codebook = resolve_codebook(store)
        documents_changed = bool(report.added or report.replaced or report.withdrawn)
        for coder, path in sorted(report.codings.items()):
            # Re-importing an unchanged file would only replace codings with themselves.
            if documents_changed or not imported_unchanged(store, path, coder, codebook):
                result.imports.append(import_codings(store, path, coder, codebook))
        if _needs_coding(store, report, codebook.hash):
            result.coding = code_project(
                store, kind="hybrid", codebook=codebook, progress=coding_progress
            )
    except BaseException:
        store.close()
        if created:  # leave things as they were: no half-made project behind a failed run
            for suffix in ("", "-wal", "-shm"):
                project.with_name(project.name + suffix).unlink(missing_ok=True)
        raise
    return store, result


def _needs_coding(store: Store, report: IngestReport, codebook_hash: str) -> bool:
    """Code again unless the last hybrid run saw the same documents with the same codebook."""
    if report.added or report.replaced or report.withdrawn:
        return True
    last = store.execute(
        "SELECT codebook_hash, parameters FROM runs WHERE command = 'code' AND coder = 'hybrid'"
        " AND status = 'finished' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return (
        last is None
        or last["codebook_hash"] != codebook_hash
        or bool(json.loads(last["parameters"]).get("site"))
    )
