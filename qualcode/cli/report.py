"""qualcode report"""

from __future__ import annotations

import click

from qualcode.cli._util import (
    CONTEXT_SETTINGS,
    error_boundary,
    project,
    reference_coder_option,
    renamed,
)
from qualcode.pipeline import make_report

# -o was a folder here, but -o/--output is a file everywhere else.
OLD_SPELLINGS = {"--out": "--out-dir", "-o": "--out-dir"}


def _old_format(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]):
    if value:
        click.echo(
            "Warning: --format is deprecated and goes in the next release; HTML is always "
            "written, and --docx adds a Word version.",
            err=True,
        )
    return value


@click.command("report", context_settings=CONTEXT_SETTINGS, cls=renamed(OLD_SPELLINGS))
@click.option(
    "--out-dir",
    "out",
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
@reference_coder_option
@click.option("--docx", is_flag=True, help="Write a Word version beside the HTML.")
@click.option(
    "--format",
    "formats",
    type=click.Choice(["html", "docx"]),
    multiple=True,
    hidden=True,
    callback=_old_format,
    help="Deprecated: --format docx is now --docx.",
)
@click.option(
    "--no-quotes",
    is_flag=True,
    help="Leave out every quote and excerpt (for reports that leave the team): no quotes, no "
    "disagreement excerpts, no theme quotes, and codings.csv without the text.",
)
@click.pass_context
def command(ctx, out, templates, coder, reference_coder, docx, formats, no_quotes) -> None:
    """Write the site-comparison report from the project: one self-contained HTML file.

    The report holds the corpus overview, the sites x codes framework matrix, the sites side
    by side, the prerequisite scorecard, stakeholder and tier breakdowns, themes, codes that
    come together, agreement (with audit pages beside it), quotes by code and site, and the
    method. codings.csv, themes.csv and matrix.csv are written beside index.html.

    \b
    Example:
      qualcode report --out-dir report
      qualcode report --out-dir report --templates my-templates --docx
      qualcode report --out-dir for-the-board --no-quotes
    """
    with project(ctx) as store, error_boundary():
        files = make_report(
            store,
            out,
            templates=templates,
            coder=coder,
            docx=docx or "docx" in formats,
            no_quotes=no_quotes,
            reference_coder=reference_coder,
        )
    click.echo(f"Wrote {files.index} and {len(files.files) - 1} more files to {files.folder}.")
