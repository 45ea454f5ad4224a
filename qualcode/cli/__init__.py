"""The ``qualcode`` command: a thin skin over the stage packages, one module per command."""

from __future__ import annotations

import importlib

import click

from qualcode import __version__
from qualcode.cli._util import CONTEXT_SETTINGS
from qualcode.store import DEFAULT_PROJECT

# name -> (module, attribute). Each command's module is imported only when that command runs
# (or when --help lists them all), so `qualcode status` does not load scikit-learn, spaCy and
# BERTopic for commands it does not run.
COMMANDS = {
    "init": ("init", "command"),
    "ingest": ("ingest", "command"),
    "status": ("status", "command"),
    "settings": ("settings", "command"),
    "documents": ("documents", "command"),
    "codebook": ("codebook", "command"),
    "code": ("code", "command"),
    "train": ("train", "command"),
    "codings": ("codings", "command"),
    "review": ("review", "command"),
    "agree": ("agree", "command"),
    "themes": ("themes", "command"),
    "report": ("report", "command"),
    "run": ("run", "command"),
    "import": ("interop", "import_command"),
    "export": ("interop", "export_command"),
    "backup": ("maintenance", "backup_command"),
    "check": ("maintenance", "check_command"),
    "pseudonymise": ("maintenance", "pseudonymise_command"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name]
        return getattr(importlib.import_module(f"qualcode.cli.{module}"), attribute)


@click.group(context_settings=CONTEXT_SETTINGS, cls=LazyGroup)
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
      qualcode run corpora/partnership-sites --out-dir demo-output
      qualcode -p study.db init && qualcode -p study.db ingest transcripts/
    """
