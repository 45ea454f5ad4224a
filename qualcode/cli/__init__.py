"""The ``qualcode`` command: a thin skin over the stage packages, one module per command."""

from __future__ import annotations

import click

from qualcode import __version__
from qualcode.cli._util import CONTEXT_SETTINGS
from qualcode.store import DEFAULT_PROJECT


@click.group(context_settings=CONTEXT_SETTINGS)
@click.option(
    "--project",
    "-p",
    default=DEFAULT_PROJECT,
    show_default=True,
    envvar="QUALCODE_PROJECT",
    type=click.Path(dir_okay=False),
    help="Project store (an SQLite file). Env: QUALCODE_PROJECT.",
)
@click.version_option(__version__, prog_name="qualcode")
def cli(project: str) -> None:
    """Qualitative analysis of stakeholder interviews about partnership working.

    \b
    Example:
      qualcode run corpora/partnership-sites --out demo-output
      qualcode -p study.db init && qualcode -p study.db ingest transcripts/
    """


from qualcode.cli import (  # noqa: E402
    agree,
    code,
    codebook,
    codings,
    documents,
    ingest,
    init,
    interop,
    maintenance,
    report,
    review,
    run,
    settings,
    status,
    themes,
    train,
)

for module in (
    init,
    ingest,
    status,
    settings,
    documents,
    codebook,
    code,
    train,
    codings,
    review,
    agree,
    themes,
    report,
    run,
):
    cli.add_command(module.command)
cli.add_command(interop.import_command)
cli.add_command(interop.export_command)
cli.add_command(maintenance.backup_command)
cli.add_command(maintenance.check_command)
cli.add_command(maintenance.pseudonymise_command)
