"""qualcode report"""

from __future__ import annotations

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project
from qualcode.pipeline import make_report


@click.command("report", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--out",
    "-o",
    default="report",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for index.html and the CSVs.",
)
@click.option(
    "--templates",
    type=click.Path(file_okay=False),
    help="Folder of Jinja2 templates overriding the built-in ones (e.g. a report.html that "
    "extends report_base.html and replaces blocks).",
)
@click.option(
    "--coder",
    help="Whose codes the report shows (default: the adjudicated human coder, gold, if it "
    "coded every segment, else the latest machine run): a coder, machine, or run:N.",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "docx"]),
    multiple=True,
    help="html (always written) and, with docx, a Word version too.",
)
@click.option(
    "--no-quotes",
    is_flag=True,
    help="Leave out every quote and excerpt (for reports that leave the team): no quotes, no "
    "disagreement excerpts, no theme quotes, and codings.csv without the text.",
)
@click.pass_context
def command(ctx, out, templates, coder, formats, no_quotes) -> None:
    """Write the site-comparison report from the project: one self-contained HTML file.

    The report holds the corpus overview, the sites x codes framework matrix, the sites side
    by side, the prerequisite scorecard, stakeholder and tier breakdowns, themes, codes that
    come together, agreement (with audit pages beside it), quotes by code and site, and the
    method. codings.csv, themes.csv and matrix.csv are written beside index.html.

    \b
    Example:
      qualcode report --out report
      qualcode report --out report --templates my-templates --format docx
      qualcode report --out for-the-board --no-quotes
    """
    with project(ctx) as store, error_boundary():
        files = make_report(
            store,
            out,
            templates=templates,
            coder=coder,
            docx="docx" in formats,
            no_quotes=no_quotes,
        )
    click.echo(f"Wrote {files.index} and {len(files.files) - 1} more files to {files.folder}.")
