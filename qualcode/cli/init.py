"""qualcode init"""

from __future__ import annotations

import click

from qualcode.cli._util import error_boundary, project_path
from qualcode.store import SCHEMA_VERSION, create_project


@click.command("init")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Create an empty project store.

    \b
    Example:
      qualcode -p study.db init
    """
    path = project_path(ctx)
    with error_boundary():
        create_project(path).close()
    click.echo(f"Created project {path} (schema version {SCHEMA_VERSION}).")
