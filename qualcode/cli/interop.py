"""qualcode import FILE.qdpx, qualcode export qdpx: REFI-QDA projects in and out."""

from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project, renamed
from qualcode.coding.project import resolve_codebook
from qualcode.store import queries as q


@click.command(
    "import", context_settings=CONTEXT_SETTINGS, cls=renamed({"--site": "--default-site"})
)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--default-site",
    "site",
    help="Site of new documents (a source's own 'site' variable wins; elsewhere --site filters).",
)
@click.option(
    "--coder-map",
    multiple=True,
    metavar="OLD=NEW",
    help="Store the codings of user OLD under coder NEW (repeatable).",
)
@click.option(
    "--offsets",
    type=click.Choice(["auto", "codepoint", "utf16"]),
    default="auto",
    show_default=True,
    help="How the file counts selection offsets: auto reads NVivo's as UTF-16 code units "
    "and every other tool's as code points.",
)
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="Map codes onto this codebook (default: the project's).",
)
@click.option("--coder", help="A table (.csv): whose coding it is.")
@click.option(
    "--document-column",
    default="document",
    show_default=True,
    help="A table: the document (or participant).",
)
@click.option("--text-column", default="text", show_default=True, help="A table: the passage.")
@click.option("--code-column", default="code", show_default=True, help="A table: the code.")
@click.pass_context
def import_command(
    ctx,
    file,
    site,
    coder_map,
    offsets,
    codebook,
    coder,
    document_column,
    text_column,
    code_column,
) -> None:
    """Import a REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA, QualCoder or qc, or a
    tabulated coding (.csv: a row per coded passage and code).

    Text sources become documents (a source whose text the project already holds is that
    document), codes a codebook (or the project's, when every code came from it), users
    coders, and coded selections codings: every span is kept, and a turn carries a code
    when a span covers at least half of it or at least half of the span lies in it. Sources
    of other kinds (PDF, pictures, audio, video) are skipped with a warning. Nothing is
    written unless the whole file reads cleanly.

    A table (.csv) gives each document (--document-column) its distinct passages
    (--text-column) as segments, each distinct code (--code-column; spellings that differ
    only in case or spacing are one code) a code, and each row a coding by --coder.

    \b
    Example:
      qualcode import nvivo-export.qdpx --default-site hollinsford
      qualcode import coder-b.qdpx --coder-map "Jo Smith=coder-b"
      qualcode import coded.csv --coder alami --document-column "document ID" \\
          --text-column text_chunk --code-column code_1
    """
    from qualcode.interop.qdpx import import_qdpx, parse_coder_map

    if Path(file).suffix.lower() == ".csv":
        _import_table(ctx, file, coder, site, document_column, text_column, code_column)
        return

    with project(ctx) as store, error_boundary():
        book = resolve_codebook(store, codebook) if codebook else None
        result = import_qdpx(
            store,
            Path(file),
            site=site,
            coder_map=parse_coder_map(coder_map),
            offsets=offsets,
            codebook=book,
        )
    counts = result.counts
    click.echo(
        f"{file} ({counts['origin'] or 'unknown tool'}, offsets read as {counts['offsets']}): "
        f"{counts['sources']} sources, {counts['codes']} codes, {counts['users']} users, "
        f"{counts['selections']} selections with {counts['codings']} codings."
    )
    click.echo(
        f"Documents: {len(result.documents_added)} added, "
        f"{len(result.documents_matched)} already in the project."
    )
    for source, document in result.documents_matched:
        click.echo(f"  {source} is {document}")
    if result.codebook:
        state = "stored as the project's codebook" if result.codebook_new else "already stored"
        click.echo(f"Codebook: {result.codebook} ({state}).")
    for report in result.coders:
        click.echo(
            f"Coder {report.coder}: {report.codings} codings on {report.segments} segments in "
            f"{report.documents} documents"
            + (f", replacing {report.replaced} earlier codings" if report.replaced else "")
            + "."
        )
    coded = {r.coder for r in result.coders}
    idle = [u for u in result.users if u not in coded]
    if idle:
        click.echo(f"Coders with no codings here: {', '.join(idle)}.")
    for warning in result.warnings:
        click.echo(f"Warning: {file}: {warning}", err=True)


def _import_table(ctx, file, coder, site, document_column, text_column, code_column) -> None:
    from qualcode.interop.table import import_table

    if not coder:
        raise click.UsageError("a table needs --coder: whose coding it is")
    with project(ctx) as store, error_boundary():
        result = import_table(
            store,
            Path(file),
            coder=coder,
            document_column=document_column,
            text_column=text_column,
            code_column=code_column,
            site=site,
        )
    click.echo(
        f"{file}: {result.rows} rows, {result.documents} documents, {result.passages} passages, "
        f"{result.codes_as_written} codes as written ({result.codes} once case and spacing "
        f"are ignored)."
    )
    report = result.coder
    click.echo(
        f"Documents: {result.documents_added} added. Coder {coder}: {report.codings} codings "
        f"on {report.segments} segments in {report.documents} documents."
    )


@click.group("export", context_settings=CONTEXT_SETTINGS)
def export_command() -> None:
    """Export the project for other tools.

    \b
    Example:
      qualcode export qdpx -o project.qdpx
    """


@export_command.command("qdpx")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The .qdpx file to write.",
)
@click.option(
    "--coder",
    "coders",
    multiple=True,
    help="Only this coder's codings (repeatable; default: every coder; a machine coder "
    "stands for its latest run).",
)
@click.option("--codebook", type=click.Path(dir_okay=False), help="Default: the project's.")
@click.pass_context
def export_qdpx_command(ctx, output, coders, codebook) -> None:
    """Write a REFI-QDA project (.qdpx) that NVivo, ATLAS.ti, MAXQDA and QualCoder open.

    Every document is a text source; codes keep their tree, definitions and colours; coders
    are users; each coding is a selection, with a machine run's evidence and confidence as
    a note. Offsets are code points of UTF-8 text.

    \b
    Example:
      qualcode export qdpx -o study.qdpx
      qualcode export qdpx -o coder-a.qdpx --coder coder-a
    """
    from qualcode.interop.export import export_qdpx

    with project(ctx) as store, error_boundary():
        book = resolve_codebook(store, codebook)
        report = export_qdpx(store, Path(output), book, list(coders) or None)
        with store.atomic():
            q.record_outputs(store, [Path(output)], "REFI-QDA export")
    click.echo(
        f"Wrote {output}: {report.documents} documents, {report.codes} codes, "
        f"{report.selections} selections by {', '.join(report.coders) or 'no coder'}."
    )
