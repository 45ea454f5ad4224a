"""The main job, stage by stage: files -> store -> (later: coders, analyses, report)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qualcode.errors import InputError
from qualcode.ingest import IngestReport, ingest
from qualcode.store import Store, open_or_create

PROJECT_FILE = "qualcode.db"


@dataclass(slots=True)
class RunResult:
    project: Path
    ingest: IngestReport


def run(
    corpus: str | Path,
    out: str | Path,
    *,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[Store, RunResult]:
    """Create (or reuse) the project in ``out`` and run every stage on ``corpus``.

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
    except BaseException:
        store.close()
        if created:  # leave things as they were: no half-made project behind a failed run
            for suffix in ("", "-wal", "-shm"):
                project.with_name(project.name + suffix).unlink(missing_ok=True)
        raise
    return store, RunResult(project=project, ingest=report)
