"""qualcode codings import|export|show"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, highlight, project, write_output
from qualcode.coding.project import (
    EXPORT_COLUMNS,
    codings_csv_lines,
    import_codings,
    iter_export_rows,
    resolve_codebook,
    segment_view,
)
from qualcode.coding.review import readable_why


@click.group("codings", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """Import human codings, export codings, or show one segment's codings with evidence.

    \b
    Example:
      qualcode codings import corpora/partnership-sites/codings/coder-a.csv --coder coder-a
      qualcode codings show 412
      qualcode codings export --format csv --coder hybrid -o codings.csv
    """


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--coder", required=True, help="Name of the human coder (e.g. alice, coder-a).")
@click.option("--codebook", type=click.Path(dir_okay=False), help="Codebook the codes belong to.")
@click.pass_context
def import_command(ctx, file, coder, codebook) -> None:
    """Import a coder's codings from CSV.

    Columns: document and either segment_id or start and end, plus code (one row per code;
    an empty code marks a segment examined with nothing to code). Unknown codes or segments are
    errors naming the CSV line, and nothing is imported. Importing again replaces the coder's
    codings of the documents in the file.

    \b
    Example:
      qualcode codings import corpora/partnership-sites/codings/coder-a.csv --coder coder-a
    """
    with project(ctx) as store, error_boundary():
        book = resolve_codebook(store, codebook)
        report = import_codings(store, Path(file), coder, book)
    replaced = f", replacing {report.replaced} earlier codings" if report.replaced else ""
    click.echo(
        f"Imported {report.codings} codings by {coder} on {report.segments} segments in "
        f"{report.documents} documents{replaced} (run {report.run_id})."
    )


@command.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="csv: one row per coding; jsonl: one JSON object per line, with the evidence.",
)
@click.option("--coder", help="Only this coder (default: every coder).")
@click.option("--site", help="Only this site's segments.")
@click.option("--all-runs", is_flag=True, help="Every run of machine coders, not only the latest.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
@click.pass_context
def export(ctx, fmt, coder, site, all_runs, output) -> None:
    """Export codings, one row per coding, with the segment and its context.

    Columns: document, site, participant, stakeholder_group, segment_id, start, end, speaker,
    text, code, family, polarity, confidence, coder, run, evidence (JSON: spans within the
    segment's text and why).

    \b
    Example:
      qualcode codings export --format csv -o codings.csv
      qualcode codings export --format jsonl --coder hybrid -o hybrid.jsonl
      qualcode codings export --site Saltmere -o saltmere.csv
    """
    counted = 0

    def count(rows):
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    with project(ctx) as store, error_boundary():
        # rows stream from the store to the file: an export of millions of codings is never held
        rows = count(iter_export_rows(store, coder=coder, all_runs=all_runs, site=site))
        if fmt == "csv":
            pieces = codings_csv_lines(rows)
        else:
            pieces = (
                json.dumps({c: row[c] for c in EXPORT_COLUMNS}, ensure_ascii=False) + "\n"
                for row in rows
            )
        if output:
            write_output(output, pieces, ctx, "codings export")
        else:
            for piece in pieces:
                click.echo(piece, nl=False)
    if output:
        click.echo(f"Wrote {counted} codings to {output}.")


@command.command("show")
@click.argument("segment_id", type=int)
@click.option(
    "--width",
    type=click.IntRange(20, 1000),
    default=100,
    show_default=True,
    help="Wrap the segment's text at this width.",
)
@click.pass_context
def show(ctx, segment_id, width) -> None:
    """Print a segment with its evidence highlighted, and each coder's codes and reasons.

    Segment ids are listed by `qualcode documents show DOCUMENT`.

    \b
    Example:
      qualcode codings show 412
    """
    with project(ctx) as store, error_boundary():
        view = segment_view(store, segment_id)
    seg = view.segment
    who = seg["participant"] or seg["speaker"] or "unlabelled"
    role = f", {seg['role']}" if seg["role"] else ""
    group = f", {seg['stakeholder_group']}" if seg["stakeholder_group"] else ""
    click.echo(
        f"Segment {seg['id']}: {seg['document']} (site {seg['site'] or '-'}), {who}{role}{group}, "
        f"characters {seg['start']}-{seg['end']}"
    )
    if seg["is_interviewer"]:
        click.echo("An interviewer turn: never coded.")
    color = sys.stdout.isatty()
    spans = [(e["start"], e["end"]) for c in view.codings for e in c["evidence"]]
    body = highlight(seg["text"], spans, color)
    click.echo(textwrap.indent(body if color else textwrap.fill(body, width - 4), "    "))
    if not view.codings:
        click.echo("\nNo codings yet (run `qualcode code`).")
    for coding in view.codings:
        source = coding["coder"] + (
            f" (run {coding['run_id']})" if coding["kind"] == "machine" else " (human)"
        )
        click.echo(
            f"\n{coding['code']}  {coding['label']} [{coding['family']}, {coding['polarity']}]"
            f"  {source}, confidence {coding['confidence']:.2f}"
        )
        for e in coding["evidence"]:
            quote = seg["text"][e["start"] : e["end"]]
            click.echo(f'    "{quote}": {readable_why(e["why"])}')
