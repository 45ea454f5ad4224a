"""qualcode backup, qualcode check"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, project
from qualcode.store.maintenance import backup, check


@click.command("backup", context_settings=CONTEXT_SETTINGS)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The copy to write (never overwritten).",
)
@click.pass_context
def backup_command(ctx, output) -> None:
    """Copy the project safely, even while another command is using it.

    Uses SQLite's online backup, so the copy is consistent; it never overwrites a file.

    \b
    Example:
      qualcode backup -o backups/study-2026-12-03.db
    """
    with project(ctx) as store, error_boundary():
        size = backup(store, Path(output))
    click.echo(f"Backed up the project to {output} ({size:,} bytes).")


@click.command("check", context_settings=CONTEXT_SETTINGS)
@click.pass_context
def check_command(ctx) -> None:
    """Check the project: SQLite integrity, orphan rows, segments and spans that no longer
    match their document's text. Exits 1 if anything is wrong.

    \b
    Example:
      qualcode check
    """
    with project(ctx) as store, error_boundary():
        report = check(store)
    if report.ok:
        click.echo("The project is sound: integrity ok, no orphan rows, every segment matches.")
        return
    for line in report.integrity[:10]:
        click.echo(f"Integrity: {line}", err=True)
    for what, n in sorted(Counter(report.orphans).items()):
        click.echo(f"Orphan rows: {n} in {what}", err=True)
    if report.mismatched_segments:
        ids = ", ".join(map(str, report.mismatched_segments[:10]))
        click.echo(
            f"{len(report.mismatched_segments)} segments no longer match their document's text "
            f"(first: {ids})",
            err=True,
        )
    if report.spans_outside:
        click.echo(f"{report.spans_outside} coding spans lie outside their document", err=True)
    click.echo("Error: the project has problems (above); restore a backup", err=True)
    sys.exit(1)


@click.command("pseudonymise", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--names",
    type=click.Path(dir_okay=False),
    help="A file of names to replace: 'name' or 'name,pseudonym' per line.",
)
@click.option(
    "--spacy-model",
    help="An installed trained spaCy pipeline whose PERSON entities are replaced too.",
)
@click.option("--dry-run", is_flag=True, help="Count what would be replaced; change nothing.")
@click.pass_context
def pseudonymise_command(ctx, names, spacy_model, dry_run) -> None:
    """Replace names, e-mail addresses, phone numbers and postcodes in the stored text with
    stable pseudonyms, moving every offset and coding with the text.

    Names come from --names (and, with --spacy-model, a trained pipeline's PERSON entities);
    e-mails, UK phone numbers and UK postcodes are found by rules. Topic models fitted on the
    old text are dropped and files qualcode wrote with it deleted; the project file is
    vacuumed so the old text is gone.

    \b
    Example:
      qualcode pseudonymise --names names.csv --dry-run
      qualcode pseudonymise --names names.csv
    """
    from qualcode.coding.pseudonymise import pseudonymise, read_names, spacy_persons

    with project(ctx) as store, error_boundary():
        listed = read_names(Path(names)) if names else {}
        person = spacy_persons(spacy_model) if spacy_model else None
        report = pseudonymise(store, listed, person=person, dry_run=dry_run)
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.replacements.items())) or "nothing"
    verb = "Would replace" if dry_run else "Replaced"
    click.echo(f"{verb} {kinds} in {report.documents} document(s).")
    if report.topic_models:
        click.echo(f"Dropped {report.topic_models} topic model(s) fitted on the old text.")
    for path in report.outputs:
        click.echo(f"Deleted {path} (written with the old text; write it again).")
