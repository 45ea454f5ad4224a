"""qualcode train"""

from __future__ import annotations

import click

from qualcode.cli._util import error_boundary, project, renamed, table
from qualcode.coding.project import Evaluation, resolve_codebook, train


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def evaluation_table(evaluation: Evaluation, level: str) -> str:
    rows = [
        [
            name,
            s.support,
            _fmt(s.precision),
            _fmt(s.recall),
            _fmt(s.f1),
            _fmt(s.kappa),
            "rules only" if name in evaluation.skipped else "",
        ]
        for (lvl, name), s in sorted(evaluation.scores.items())
        if lvl == level
    ]
    return table([level, "support", "precision", "recall", "F1", "kappa", ""], rows)


@click.command("train", cls=renamed({"--coder": "--kind"}))
@click.option("--from", "source", required=True, help="The human coder whose codings to learn.")
@click.option(
    "--kind",
    type=click.Choice(["model", "hybrid"]),
    default="hybrid",
    show_default=True,
    help="Which coder to evaluate.",
)
@click.option(
    "--folds",
    default=5,
    show_default=True,
    type=click.IntRange(2, 20),
    help="Cross-validation folds, grouped by document.",
)
@click.option(
    "--codebook",
    type=click.Path(dir_okay=False),
    help="Codebook YAML for this command only (default: the project's codebook).",
)
@click.pass_context
def command(ctx, source, kind, folds, codebook) -> None:
    """Evaluate the model on a human coder's codings by k-fold CV, and train on them from now on.

    Folds are grouped by document, so no document is scored by a model trained on it. Prints and
    stores precision, recall, F1 and Cohen's kappa per code and per family; codes with too few
    examples are not predicted by the model (the rules still apply) and are listed. Sets the
    project's training source to this coder: later `qualcode code --kind model|hybrid` trains
    on its codings (`qualcode settings training codebook` goes back to the codebook's).

    \b
    Example:
      qualcode codings import coder-a.csv --coder alice
      qualcode train --from alice
    """
    with project(ctx) as store, error_boundary():
        book = resolve_codebook(store, codebook)
        click.echo(f"Cross-validating the {kind} coder on {source}'s codings ({folds} folds)...")
        evaluation = train(store, source, book, kind=kind, folds=folds)
    click.echo(
        f"{evaluation.units} segments from {evaluation.documents} documents, "
        f"{evaluation.folds}-fold cross-validation grouped by document.\n"
    )
    click.echo(evaluation_table(evaluation, "family"))
    click.echo()
    click.echo(evaluation_table(evaluation, "code"))
    overall = evaluation.scores[("overall", "all codes")]
    click.echo(
        f"\nAll codes (micro): precision {_fmt(overall.precision)}, recall {_fmt(overall.recall)}"
        f", F1 {_fmt(overall.f1)}, kappa {_fmt(overall.kappa)}."
    )
    if evaluation.skipped:
        listed = ", ".join(f"{c} ({n})" for c, n in sorted(evaluation.skipped.items()))
        click.echo(f"Too few examples for the model (rules only): {listed}.")
    click.echo(
        f"Stored as run {evaluation.run_id}. Training source set to {source}: `qualcode code` "
        "now trains on its codings (see `qualcode settings`)."
    )
