"""qualcode status"""

from __future__ import annotations

import click

from qualcode.cli._util import error_boundary, project, table
from qualcode.coding.project import describe_settings
from qualcode.store import queries as q
from qualcode.store.db import Store


def site_table(store: Store) -> str:
    """Per-site counts with a total row; one column per coder."""
    summary = q.summarise(store)
    coders = sorted({c for s in summary for c in s.codings})
    headers = ["site", "interviews", "responses", "participants", "segments", "respondent", "words"]
    headers += [f"codings:{c}" for c in coders]
    rows = [
        [
            s.site,
            s.interviews,
            s.responses,
            s.participants,
            s.segments,
            s.respondent_segments,
            s.words,
        ]
        + [s.codings.get(c, 0) for c in coders]
        for s in summary
    ]
    if len(rows) > 1:
        rows.append(["total", *(sum(r[i] for r in rows) for i in range(1, len(headers)))])
    return table(headers, rows)


@click.command("status")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Show the project's codebook and training source, documents, participants, segments and
    codings per site, and recent runs.

    \b
    Example:
      qualcode -p demo-output/qualcode.db status
    """
    with project(ctx) as store, error_boundary():
        click.echo(f"Project {store.path}")
        for key, value in describe_settings(store).items():
            click.echo(f"{key.capitalize()}: {value}")
        click.echo(site_table(store))
        runs = q.recent_runs(store)
        if runs:
            click.echo("\nRecent runs")
            click.echo(
                table(
                    ["run", "command", "coder", "started", "status"],
                    [
                        [r["id"], r["command"], r["coder"], r["started_at"], r["status"]]
                        for r in runs
                    ],
                )
            )
