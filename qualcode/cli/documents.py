"""qualcode documents list|show|remove"""

from __future__ import annotations

import textwrap

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project, table, width_option
from qualcode.store import queries as q


@click.group("documents", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """List, show or remove documents (e.g. when a participant withdraws).

    \b
    Example:
      qualcode documents list --site Saltmere
      qualcode documents show saltmere/SAL-04.txt
      qualcode documents remove --participant SAL-04 --yes
    """


@command.command("list")
@click.option("--site", help="Only this site.")
@click.pass_context
def list_documents(ctx: click.Context, site: str | None) -> None:
    """List documents with site, participant, group, tier, wave, format and segments.

    \b
    Example:
      qualcode documents list --site Hollinsford
    """
    with project(ctx) as store:
        rows = q.list_documents(store, site)
    headers = ["document", "site", "participant", "group", "tier", "wave", "format", "segments"]
    click.echo(table(headers, [list(r) for r in rows]))


@command.command("show")
@click.argument("path")
@width_option
@click.pass_context
def show(ctx: click.Context, path: str, width: int) -> None:
    """Print a document's segments with their ids, speakers and interviewer flags.

    Segment ids are what `qualcode codings show` and coding imports refer to.

    \b
    Example:
      qualcode documents show hollinsford/HOL-01.txt
    """
    with project(ctx) as store, error_boundary():
        rows = q.document_segments(store, path)
    for r in rows:
        who = r["speaker"] or "(unlabelled)"
        flag = "interviewer, not coded" if r["is_interviewer"] else (r["pseudonym"] or "respondent")
        when = f" @{r['start_time']:.1f}s" if r["start_time"] is not None else ""
        click.echo(f"[{r['id']}] {who} ({flag}) chars {r['start']}-{r['end']}{when}")
        click.echo(textwrap.indent(textwrap.fill(r["text"], width=width - 4), "    "))


@command.command("remove")
@click.argument("paths", nargs=-1)
@click.option("--participant", help="Remove every document of this participant (pseudonym).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def remove(ctx: click.Context, paths: tuple[str, ...], participant: str | None, yes: bool) -> None:
    """Delete documents with all their segments and codings.

    Use it when a participant withdraws consent: the text is removed from the project file
    itself (the file is vacuumed), not only hidden, and the project remembers the removal (by
    name and content hash, never the text) so that a later ingest does not bring it back.

    \b
    Example:
      qualcode documents remove hollinsford/HOL-06.txt
      qualcode documents remove --participant HOL-06 --yes
    """
    if not paths and not participant:
        raise click.UsageError("name documents to remove, or --participant")
    with project(ctx) as store, error_boundary():
        rows = q.find_documents_to_remove(store, list(paths), participant)
        if not yes:
            click.echo("\n".join(r["path"] for r in rows))
            click.confirm(f"Remove {len(rows)} document(s) and their codings?", abort=True)
        with store.atomic():
            run_id = q.start_run(
                store, "documents remove", {"paths": list(paths), "participant": participant}
            )
            removal = q.remove_documents(store, rows, reason="removed by user", run_id=run_id)
            q.finish_run(store, run_id)
        q.purge_free_pages(store)
        deleted = q.delete_outputs(removal.outputs)
    click.echo(
        f"Removed {len(removal.documents)} document(s), {removal.segments} segments, "
        f"{removal.codings} codings"
        + (f" and participants {', '.join(removal.participants)}." if removal.participants else ".")
    )
    if removal.topic_models:
        click.echo(
            f"Dropped {removal.topic_models} topic model(s) fitted on their text "
            "(run `qualcode themes fit` again)."
        )
    if deleted:
        click.echo(
            f"Deleted {len(deleted)} file(s) qualcode had written with the project's text "
            "(write them again with `qualcode report` or the command that made them):"
        )
        for path in deleted:
            click.echo(f"  {path}")
