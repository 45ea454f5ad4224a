"""The main job, stage by stage: files -> store -> coders -> store (later: analyses, report)."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qualcode.agreement import Options, audit, in_sample_text, kappa_name
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
from qualcode.store import queries as q
from qualcode.store.queries import latest_machine_run
from qualcode.types import REFERENCE_CODERS

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
    report: ReportFiles | None = None


@dataclass(slots=True)
class Agreement:
    """One audit the run wrote: who was compared, the figures, and where the page is."""

    title: str
    result: dict
    html: Path | None  # where its page was written (None: not written)
    in_sample: list[str] = field(default_factory=list)  # computed lines, see agreement
    name: str = "agreement"  # human (the first human pair), human-A-B, or machine
    reference: str | None = None  # the reference coder, if in this audit
    note: str = ""  # for the machine audit: which coder is the reference, and why


def run(
    corpus: str | Path,
    out: str | Path,
    *,
    replace: bool = False,
    reference_coder: str | None = None,
    progress: Callable[..., None] | None = None,
    coding_progress: Callable[[int, int], None] | None = None,
    themes_progress: Callable[..., None] | None = None,
    training_progress: Callable[[str, int, int], None] | None = None,
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
        if reference_coder is not None and reference_coder not in report.codings:
            raise InputError(  # said before coding, which takes minutes
                None,
                f"{reference_coder!r} is not one of the coders the manifest lists under "
                f"codings: ({', '.join(sorted(report.codings)) or 'none'})",
                field="--reference-coder",
            )
        codebook = resolve_codebook(store)
        documents_changed = bool(report.added or report.replaced or report.withdrawn)
        for coder, path in sorted(report.codings.items()):
            # Re-importing an unchanged file would only replace codings with themselves.
            if documents_changed or not imported_unchanged(store, path, coder, codebook):
                result.imports.append(import_codings(store, path, coder, codebook))
        if _needs_coding(store, report, codebook.hash):
            result.coding = code_project(
                store,
                kind="hybrid",
                codebook=codebook,
                progress=coding_progress,
                training_progress=training_progress,
            )
        result.agreements = agreements(
            store,
            codebook,
            report.codings,
            out / "agreement",
            reference=reference_coder,
            manifest_reference=report.reference_coder,
        )
        result.themes_run, result.themes_new = themes(store, codebook, report, themes_progress)
        result.report = make_report(
            store, out / "report", codebook=codebook, agreements_done=result.agreements
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


REFERENCE_RULE = (
    "the reference coder is the one named with --reference-coder or by the manifest's "
    "reference_coder, else the adjudicated coder (gold, consensus or adjudicated), else the "
    "human coder who examined the most respondent segments"
)


@dataclass(frozen=True, slots=True)
class Reference:
    """The human coder the machine is audited against, and why that one."""

    coder: str
    why: str  # e.g. "the adjudicated coder"

    @property
    def note(self) -> str:
        return f"Reference coder: {self.coder}, {self.why} ({REFERENCE_RULE})."


def choose_reference(
    store: Store, humans: list[str], named: str | None = None, manifest: str | None = None
) -> Reference:
    """The reference among ``humans``: ``named`` (an option), else the project's
    ``reference_coder`` (``manifest``, or the project's setting an ingest of that manifest
    kept), else an adjudicated coder, else the human coder who examined the most respondent
    segments (ties: the first by name)."""
    from qualcode.agreement.audit import examined
    from qualcode.agreement.coders import resolve

    if named is not None:
        if named not in humans:
            raise InputError(
                None,
                f"no human coder {named!r} with codings in the project (human coders: "
                f"{', '.join(humans) or 'none'})",
                field="--reference-coder",
            )
        return Reference(named, "named with --reference-coder")
    setting = manifest or q.get_setting(store, "reference_coder")
    if setting is not None and manifest is not None and setting not in humans:
        raise InputError(
            None,
            f"the manifest's reference coder {setting!r} has no codings in the project "
            f"(human coders: {', '.join(humans) or 'none'})",
            field="reference_coder",
        )
    if setting in humans:
        return Reference(setting, "named by the manifest's reference_coder")
    adjudicated = [name for name in REFERENCE_CODERS if name in humans]
    if adjudicated:
        return Reference(adjudicated[0], "the adjudicated coder")
    segments = {r["id"]: r for r in q.respondent_units(store, None, None)}
    counts = {h: len(examined(resolve(store, h), segments, "document")) for h in humans}
    best = min(humans, key=lambda h: (-counts[h], h))
    return Reference(best, f"the human coder who examined the most segments ({counts[best]})")


def agreements(
    store: Store,
    codebook,
    codings: dict[str, Path | None],
    folder: Path | None,
    *,
    reference: str | None = None,
    manifest_reference: str | None = None,
) -> list[Agreement]:
    """Human-human and human-machine audits of the manifest's coders, as JSON and HTML pages.

    Every pair of human coders is compared, each pair on the segments both examined (a coder
    who coded little does not shrink the others' audit); pairs without the reference come
    first, and the first pair's page is ``human.html``. The reference (see
    :func:`choose_reference`) is compared with the latest machine run.
    """
    from itertools import combinations

    from qualcode.report import render_audit

    humans = sorted(codings)
    if not humans:
        return []
    chosen = choose_reference(store, humans, reference, manifest_reference)
    ref = chosen.coder
    pairs: list[tuple[str, str, list[str]]] = []
    human_pairs = sorted(combinations(humans, 2), key=lambda pair: (ref in pair, pair))
    for a, b in human_pairs:
        name = "human" if not pairs else f"human-{_slug(a)}-{_slug(b)}"
        pairs.append((name, "Human coders", [a, b]))
    machine = latest_machine_run(store)
    if machine is not None:
        pairs.append(("machine", "Human reference and machine", [ref, "machine"]))
    out = []
    for name, title, coders in pairs:
        try:
            result = audit(store, coders, codebook, Options(excerpts=5))
        except EmptyCorpusError:  # the coders share no segments: nothing to compare
            continue
        result["reference"] = {"coder": ref, "why": chosen.why, "rule": REFERENCE_RULE}
        page = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            page = folder / f"{name}.html"
            page.write_text(render_audit(result), encoding="utf-8")
            (folder / f"{name}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
            with store.atomic():
                q.record_outputs(store, [page, folder / f"{name}.json"], "agreement audit")
        in_sample = in_sample_text(result["in_sample"])
        names = [
            c["name"] + (f" ({c['coder']} run {c['run']})" if c["kind"] == "machine" else "")
            for c in result["coders"]
        ]
        out.append(
            Agreement(
                f"{title}: {', '.join(names)}",
                result,
                page,
                in_sample,
                name,
                reference=ref if ref in coders else None,
                note=chosen.note if name == "machine" else "",
            )
        )
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "coder"


def themes(store: Store, codebook, report, progress=None) -> tuple[int | None, bool]:
    """Topics over the whole corpus and per site (default settings), unless themes runs
    already cover these documents. Returns the whole-corpus run and whether it is new."""
    from qualcode.themes import Options, discover
    from qualcode.themes.results import latest_by_grouping

    latest = latest_by_grouping(store)
    changed = bool(report.added or report.replaced or report.withdrawn)
    if None in latest and "site" in latest and not changed:
        return latest[None], False
    try:
        overall = discover(store, codebook, Options(), progress=progress).run_id
    except EmptyCorpusError:
        return None, False
    sites = store.execute("SELECT count(DISTINCT site) FROM documents").fetchone()[0]
    if sites > 1:
        with contextlib.suppress(EmptyCorpusError):  # every site too small to model alone
            discover(store, codebook, Options(by="site"), progress=progress)
    return overall, True


def _without_quotes(models: list[dict]) -> list[dict]:
    return [dict(m, topics=[dict(t, quotes=[]) for t in m["topics"]]) for m in models]


@dataclass(slots=True)
class ReportFiles:
    folder: Path
    index: Path
    files: list[Path]


def make_report(
    store: Store,
    folder: str | Path,
    *,
    codebook=None,
    agreements_done: list[Agreement] | None = None,
    templates: str | Path | None = None,
    coder: str | None = None,
    docx: bool = False,
    generated: str | None = None,
    no_quotes: bool = False,
    reference_coder: str | None = None,
) -> ReportFiles:
    """Write the site-comparison report: index.html, the agreement pages it links to, and
    codings.csv, themes.csv and matrix.csv beside it (report.docx too if asked)."""
    from qualcode.coding.project import codings_csv_lines, iter_export_rows
    from qualcode.report import data as report_data
    from qualcode.report import render_audit
    from qualcode.report import site as report_site
    from qualcode.themes import results as theme_results

    folder = Path(folder)
    codebook = codebook or resolve_codebook(store)
    data = report_data.build(store, codebook, coder)
    if no_quotes:
        data.quotes = {}
    if agreements_done is None:
        humans = [
            r[0]
            for r in store.execute("SELECT name FROM coders WHERE kind = 'human' ORDER BY name")
        ]
        agreements_done = agreements(
            store, codebook, dict.fromkeys(humans), None, reference=reference_coder
        )
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    links = []
    for a in agreements_done:
        page = folder / f"agreement-{a.name}.html"
        shown = dict(a.result, disagreements={}) if no_quotes else a.result
        page.write_text(
            render_audit(shown, generated=generated, back="index.html"), encoding="utf-8"
        )
        written.append(page)
        kappa = kappa_name(len(a.result["coders"]))
        pooled = a.result["overall"]["pooled"]
        links.append(
            {
                "title": a.title,
                "kappa": pooled[kappa],
                "ci": pooled.get("kappa_ci"),
                "mean": a.result["overall"]["mean"][kappa],
                "segments": a.result["n_segments"],
                "in_sample": a.in_sample,
                "href": page.name,
                "name": a.name,  # human (first human pair), human-A-B, machine
                "reference": a.reference,  # the reference coder, if in this audit
                "note": a.note,  # machine audit: which coder is the reference, and why
            }
        )
    latest_themes = theme_results.latest_by_grouping(store)
    themes_run = latest_themes.get(None)
    themes = theme_results.load(store, themes_run) if themes_run else []
    site_themes = (
        theme_results.load(store, latest_themes["site"]) if "site" in latest_themes else []
    )
    runs = [
        dict(r)
        for r in store.execute(
            "SELECT id, command, coder, version, started_at FROM runs WHERE status = 'finished'"
            " AND command IN ('ingest', 'run', 'code', 'train', 'codings import', 'themes')"
            " ORDER BY id DESC LIMIT 12"
        )
    ]
    if no_quotes:
        themes, site_themes = _without_quotes(themes), _without_quotes(site_themes)
    html = report_site.render(
        data,
        themes=themes,
        site_themes=site_themes,
        agreements=links,
        runs=runs,
        templates=templates,
        generated=generated,
    )
    index = folder / "index.html"
    index.write_text(html, encoding="utf-8")
    written.append(index)
    rows = iter_export_rows(store, coder=data.coder["coder"])
    if no_quotes:
        rows = (dict(r, text="", evidence=[]) for r in rows)
    with (folder / "codings.csv").open("w", encoding="utf-8") as out:
        out.writelines(codings_csv_lines(rows))  # streamed: never the whole export in memory
    topics = theme_results.export_rows(themes, themes_run) if themes_run else []
    (folder / "themes.csv").write_text(theme_results.themes_csv(topics), encoding="utf-8")
    (folder / "matrix.csv").write_text(report_site.matrix_csv(data), encoding="utf-8")
    written += [folder / n for n in ("codings.csv", "themes.csv", "matrix.csv")]
    if docx:
        report_site.docx(data, folder / "report.docx", themes)
        written.append(folder / "report.docx")
    if not store.read_only:  # a read-only project can still be reported on; nothing to record
        with store.atomic():
            q.record_outputs(store, written, "report")
    return ReportFiles(folder, index, written)
