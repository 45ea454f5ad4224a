"""qualcode ingest"""

from __future__ import annotations

import click

from qualcode.cli._util import progress_bar, project, renamed
from qualcode.ingest import IngestReport, ingest


def print_report(report: IngestReport) -> None:
    """Tell the user what ingest did; warnings, refusals and skips go to stderr."""
    for path, message in report.warnings:
        click.echo(f"Warning: {path}: {message}", err=True)
    for path, reason in report.refused:
        click.echo(f"Refused: {path}: {reason}", err=True)
    for path, reason in report.skipped:
        click.echo(f"Skipped: {path}: {reason}", err=True)
    for path, dropped in report.replaced:
        click.echo(f"Replaced {path}: dropped {dropped} codings.")
    for paths, segments, codings in report.withdrawn:
        click.echo(
            f"Removed (consent withdrawn in the manifest): {paths}; "
            f"{segments} segments and {codings} codings deleted."
        )
    for path in report.deleted_outputs:
        click.echo(f"Deleted {path} (written with the withdrawn text; write it again).")
    segments = sum(n for _, n in report.added)
    click.echo(
        f"Ingested {report.files} file(s): {len(report.added)} documents, {segments} segments. "
        f"Unchanged: {len(report.unchanged)} file(s). Refused: {len(report.refused)}."
    )


@click.command("ingest", cls=renamed({"--site": "--default-site"}))
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--default-site",
    "site",
    help="Site for files whose manifest or front matter names none (elsewhere --site filters).",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False),
    help="Manifest (YAML or CSV) of per-file metadata. Found automatically in a folder.",
)
@click.option("--replace", is_flag=True, help="Re-ingest changed files, dropping their codings.")
@click.option("--text-column", help="CSV: the column holding the response text.")
@click.option("--id-column", help="CSV: the column holding the respondent or response id.")
@click.option(
    "--interviewer-label",
    "interviewer_labels",
    multiple=True,
    help="A speaker label that marks interviewer turns (repeatable; replaces the defaults).",
)
@click.pass_context
def command(
    ctx: click.Context,
    paths: tuple[str, ...],
    site: str | None,
    manifest: str | None,
    replace: bool,
    text_column: str | None,
    id_column: str | None,
    interviewer_labels: tuple[str, ...],
) -> None:
    """Read transcripts (.txt .md .docx .vtt .srt) and survey responses (.csv).

    PATHS are files or folders. A folder with a manifest.yaml (or .csv) is read as the
    manifest lists it. Nothing is written unless every file is valid.

    \b
    Example:
      qualcode ingest corpora/partnership-sites
      qualcode ingest interviews/ --default-site Hollinsford
      qualcode ingest survey.csv --text-column answer --id-column respondent
    """
    with project(ctx) as store, progress_bar("Reading") as step:
        report = ingest(
            store,
            paths,
            site=site,
            manifest_path=manifest,
            replace=replace,
            text_column=text_column,
            id_column=id_column,
            interviewer_labels=interviewer_labels or None,
            progress=step,
        )
    print_report(report)
