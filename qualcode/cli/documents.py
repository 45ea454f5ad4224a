"""qualcode documents list|remove"""

from __future__ import annotations

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project, table
from qualcode.store import queries as q


@click.group("documents", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """List documents, or remove them (e.g. when a participant withdraws).

    \b
    Example:
      qualcode documents list --site Saltmere
      qualcode documents remove --participant SAL-04 --yes
    """


@command.command("list")
@click.option("--site", help="Only this site.")
@click.pass_context
def list_documents(ctx: click.Context, site: str | None) -> None:
    """List documents with site, participant, format and segment counts.

    \b
    Example:
      qualcode documents list --site Hollinsford
    """
    with project(ctx) as store:
        rows = q.list_documents(store, site)
    click.echo(
        table(["document", "site", "participant", "format", "segments"], [list(r) for r in rows])
    )


@command.command("remove")
@click.argument("paths", nargs=-1)
@click.option("--participant", help="Remove every document of this participant (pseudonym).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, paths: tuple[str, ...], participant: str | None, yes: bool) -> None:
    """Delete documents with all their segments and codings.

    Use it when a participant withdraws consent: the text is removed from the project file
    itself (the file is vacuumed), not only hidden.

    \b
    Example:
      qualcode documents remove hollinsford/HOL-06.txt
      qualcode documents remove --participant HOL-06 --yes
    """
    if not paths and not participant:
        raise click.UsageError("name documents to remove, or --participant")
    with project(ctx) as store:
        rows = q.find_documents_to_remove(store, list(paths), participant)
        if not yes:
            click.echo("\n".join(r["path"] for r in rows))
            click.confirm(f"Remove these {len(rows)} documents and their codings?", abort=True)
        with error_boundary(), store.atomic():
            removal = q.remove_documents(store, rows)
        q.purge_free_pages(store)
    click.echo(
        f"Removed {len(removal.documents)} documents, {removal.segments} segments, "
        f"{removal.codings} codings"
        + (f" and participants {', '.join(removal.participants)}." if removal.participants else ".")
    )
