"""qualcode import FILE.qdpx, qualcode export qdpx: REFI-QDA projects in and out."""

from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project
from qualcode.coding.project import resolve_codebook


@click.command("import", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--site", help="Site of the documents (a source's own 'site' variable wins).")
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
@click.pass_context
def import_command(ctx, file, site, coder_map, offsets, codebook) -> None:
    """Import a REFI-QDA project (.qdpx) from NVivo, ATLAS.ti, MAXQDA, QualCoder or qc.

    Text sources become documents (a source whose text the project already holds is that
    document), codes a codebook (or the project's, when every code came from it), users
    coders, and coded selections codings: every span is kept, and a turn carries a code
    when a span covers at least half of it or at least half of the span lies in it. Sources
    of other kinds (PDF, pictures, audio, video) are skipped with a warning. Nothing is
    written unless the whole file reads cleanly.

    \b
    Example:
      qualcode import nvivo-export.qdpx --site hollinsford
      qualcode import coder-b.qdpx --coder-map "Jo Smith=coder-b"
    """
    from qualcode.interop.qdpx import import_qdpx, parse_coder_map

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


@click.group("export", context_settings=CONTEXT_SETTINGS)
def export_command() -> None:
    """Export the project for other tools.

    \b
    Example:
      qualcode export qdpx -o project.qdpx
    """


@export_command.command("qdpx")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
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
    click.echo(
        f"Wrote {output}: {report.documents} documents, {report.codes} codes, "
        f"{report.selections} selections by {', '.join(report.coders) or 'no coder'}."
    )
