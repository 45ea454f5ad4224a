"""qualcode run"""

from __future__ import annotations

import click

from qualcode.cli._util import error_boundary, progress_bar
from qualcode.cli.ingest import print_report
from qualcode.cli.status import site_table
from qualcode.pipeline import run


@click.command("run")
@click.argument("corpus", type=click.Path(file_okay=False))
@click.option(
    "--out",
    "-o",
    default="qualcode-output",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder for the project store and outputs.",
)
def command(corpus: str, out: str) -> None:
    """Run the whole pipeline on a corpus folder: ingest, then a per-site summary.

    The project store is OUT/qualcode.db; running again reuses it (unchanged files are
    skipped). The --project option does not apply here.

    \b
    Example:
      qualcode run corpora/partnership-sites --out demo-output
    """
    with error_boundary(), progress_bar("Ingesting") as step:
        store, result = run(corpus, out, progress=step)
    try:
        print_report(result.ingest)
        click.echo(f"\nProject {result.project}")
        click.echo(site_table(store))
    finally:
        store.close()
