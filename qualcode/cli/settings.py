"""qualcode settings"""

from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli._util import error_boundary, project
from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.project import describe_settings, use_codebook, use_training


@click.group("settings")
def command() -> None:
    """Show or change which codebook and which training codings the project uses.

    These are the project's own settings, kept in the project file: commands use them unless
    given --codebook for that command alone. `status` shows them too.

    \b
    Example:
      qualcode settings show
      qualcode settings codebook codebooks/partnership-barriers.yaml
      qualcode settings training alice
    """


@command.command("show")
@click.pass_context
def show(ctx) -> None:
    """Print the project's codebook and training source.

    \b
    Example:
      qualcode -p demo-output/qualcode.db settings show
    """
    with project(ctx) as store:
        for key, value in describe_settings(store).items():
            click.echo(f"{key}: {value}")


@command.command("codebook")
@click.argument("file", metavar="FILE|shipped")
@click.pass_context
def set_codebook(ctx, file: str) -> None:
    """Use this codebook from now on (`shipped`: the codebook that comes with qualcode).

    The codebook is copied into the project file, so the project keeps working if the file
    moves. Codings made with the earlier codebook are kept for audit; `qualcode code` codes
    with the new one.

    \b
    Example:
      qualcode settings codebook my-codebook.yaml
      qualcode settings codebook shipped
    """
    with project(ctx) as store, error_boundary():
        book = load_codebook(default_codebook_path() if file == "shipped" else Path(file))
        changed = use_codebook(store, book)
    what = f"{book.name} {book.version or ''}".rstrip()
    click.echo(f"Codebook: {what} ({book.hash[:12]})" + ("" if changed else ", unchanged") + ".")


@command.command("training")
@click.argument("source", metavar="CODER|codebook")
@click.pass_context
def set_training(ctx, source: str) -> None:
    """Train the model and hybrid coders on this human coder's codings from now on
    (`codebook`: on the codings the codebook names; for the shipped codebook, those packaged
    with qualcode). `qualcode train --from CODER` sets this too.

    \b
    Example:
      qualcode settings training alice
      qualcode settings training codebook
    """
    with project(ctx) as store, error_boundary():
        use_training(store, None if source == "codebook" else source)
        training = describe_settings(store)["training"]
    click.echo(f"Training: {training}.")
