"""The main job, stage by stage: files -> store -> coders -> store (later: analyses, report)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.agreement import Options, audit
from qualcode.coding.project import (
    CodeReport,
    ImportReport,
    code_project,
    import_codings,
    imported_unchanged,
    resolve_codebook,
)
from qualcode.errors import EmptyCorpusError, InputError
from qualcode.ingest import IngestReport, ingest
from qualcode.store import Store, open_or_create

PROJECT_FILE = "qualcode.db"


@dataclass(slots=True)
class RunResult:
    project: Path
    ingest: IngestReport
    imports: list[ImportReport] = field(default_factory=list)
    coding: CodeReport | None = None
    agreements: list[Agreement] = field(default_factory=list)
    themes_run: int | None = None  # the themes run made (or reused) for this corpus
    themes_new: bool = False


@dataclass(slots=True)
class Agreement:
    """One audit the run wrote: who was compared, the figures, and where the page is."""

    title: str
    result: dict
    html: Path
    in_sample: bool = False


def run(
    corpus: str | Path,
    out: str | Path,
    *,
    replace: bool = False,
    progress: Callable[..., None] | None = None,
    coding_progress: Callable[[int, int], None] | None = None,
    themes_progress: Callable[..., None] | None = None,
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
        result.agreements = agreements(store, codebook, report.codings, out / "agreement")
        result.themes_run, result.themes_new = themes(store, codebook, report, themes_progress)
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


def agreements(store: Store, codebook, codings: dict[str, Path], folder: Path) -> list[Agreement]:
    """Human-human and human-machine audits of the manifest's coders, as JSON and HTML pages.

    The reference is the adjudicated coder (``gold``, ``consensus`` or ``adjudicated``) if the
    manifest names one, else the first coder; the others are compared with each other, and
    the reference with the latest machine run.
    """
    from qualcode.report import render_audit

    humans = sorted(codings)
    if not humans:
        return []
    reference = next((h for h in humans if h in REFERENCE_NAMES), humans[0])
    others = [h for h in humans if h != reference] if len(humans) > 2 else humans
    pairs: list[tuple[str, str, list[str]]] = []
    if len(others) >= 2:
        pairs.append(("human", "Human coders", others))
    machine = store.execute(
        "SELECT r.id, r.parameters FROM runs r JOIN coders k ON k.name = r.coder"
        " WHERE k.kind = 'machine' AND r.command = 'code' AND r.status = 'finished'"
        " ORDER BY r.id DESC LIMIT 1"
    ).fetchone()
    if machine is not None:
        pairs.append(("machine", "Human reference and machine", [reference, "machine"]))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, title, coders in pairs:
        try:
            result = audit(store, coders, codebook, Options(excerpts=5))
        except EmptyCorpusError:  # the coders share no segments: nothing to compare
            continue
        page = folder / f"{name}.html"
        page.write_text(render_audit(result), encoding="utf-8")
        (folder / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        trained = json.loads(machine["parameters"]).get("training") if machine else None
        in_sample = name == "machine" and bool(trained) and codings[reference].name in trained
        names = [
            c["name"] + (f" ({c['coder']} run {c['run']})" if c["kind"] == "machine" else "")
            for c in result["coders"]
        ]
        out.append(Agreement(f"{title}: {', '.join(names)}", result, page, in_sample))
    return out


REFERENCE_NAMES = ("gold", "consensus", "adjudicated")


def themes(store: Store, codebook, report, progress=None) -> tuple[int | None, bool]:
    """Topics over the whole corpus (default settings), unless a themes run already covers
    these documents. Returns the run and whether it is new."""
    from qualcode.themes import Options, discover

    latest = store.execute(
        "SELECT max(id) FROM runs WHERE command = 'themes' AND status = 'finished'"
    ).fetchone()[0]
    changed = bool(report.added or report.replaced or report.withdrawn)
    if latest is not None and not changed:
        return latest, False
    try:
        return discover(store, codebook, Options(), progress=progress).run_id, True
    except EmptyCorpusError:
        return None, False
