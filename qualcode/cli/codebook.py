"""qualcode codebook validate|show|export"""

from __future__ import annotations

from pathlib import Path

import click

from qualcode.cli._util import CONTEXT_SETTINGS, error_boundary, write_output
from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.codebook.export import to_csv, to_markdown, tree

codebook_file = click.argument("file", required=False, type=click.Path(dir_okay=False))


def _load(file: str | None):
    return load_codebook(Path(file) if file else default_codebook_path())


@click.group("codebook", context_settings=CONTEXT_SETTINGS)
def command() -> None:
    """Validate, show or export a codebook (YAML).

    Without FILE, the shipped codebook of barriers and prerequisites is used.

    \b
    Example:
      qualcode codebook validate codebooks/partnership-barriers.yaml
      qualcode codebook export --format md -o appendix.md
    """


@command.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def validate(file: str) -> None:
    """Check a codebook: schema, ids, parents, families, pairs and spaCy patterns.

    \b
    Example:
      qualcode codebook validate codebooks/partnership-barriers.yaml
    """
    with error_boundary():
        codebook = load_codebook(Path(file))
    for warning in codebook.warnings:
        click.echo(f"Warning: {file}: {warning}", err=True)
    codable = codebook.codable
    click.echo(
        f"{file}: valid; {len(codable)} codable codes in {len(codebook.families)} families "
        f"(hash {codebook.hash[:12]})."
    )


@command.command("show")
@codebook_file
def show(file: str | None) -> None:
    """Print the code tree with labels and polarity.

    \b
    Example:
      qualcode codebook show
    """
    with error_boundary():
        click.echo(tree(_load(file)))


@command.command("export")
@codebook_file
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "qdc"]),
    default="md",
    show_default=True,
    help="md: a methods appendix; csv: one row per code; qdc: REFI-QDA codebook for other tools.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
def export(file: str | None, fmt: str, output: str | None) -> None:
    """Export the codebook as Markdown (a methods appendix), CSV, or REFI-QDA (.qdc).

    The .qdc keeps the tree, labels, definitions, colours and sets; each code's description
    ends with its qualcode id and polarity, so importing it back gives the same codes.

    \b
    Example:
      qualcode codebook export --format md -o methods-appendix.md
      qualcode codebook export my-codebook.yaml --format csv -o codes.csv
      qualcode codebook export --format qdc -o partnership.qdc
    """
    with error_boundary():
        codebook = _load(file)
    if fmt == "qdc":
        from qualcode.interop.export import codebook_qdc

        text = codebook_qdc(codebook).decode("utf-8") + "\n"
    else:
        text = to_markdown(codebook) if fmt == "md" else to_csv(codebook)
    if output:
        write_output(output, text)
        click.echo(f"Wrote {output}.")
    else:
        click.echo(text, nl=False)


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write here (default: stdout)."
)
def import_qdc(file: str, output: str | None) -> None:
    """Turn a REFI-QDA codebook (.qdc) into qualcode's YAML.

    Codes keep their tree, GUIDs, colours and descriptions, and sets become ``sets``. Ids are
    made from the names (``parent.child``, lower case); a code qualcode exported keeps its
    id and polarity; others are neutral, to be marked barrier or prerequisite by hand.

    \b
    Example:
      qualcode codebook import atlas-codes.qdc -o codebooks/atlas.yaml
    """
    from qualcode.interop.codes import codebook_from_refi
    from qualcode.interop.refi import read_codebook_file

    with error_boundary():
        path = Path(file)
        codes, sets, origin = read_codebook_file(path)
        if not codes:
            from qualcode.errors import CodebookError

            raise CodebookError(path, "no codes in the codebook")
        codebook, _ = codebook_from_refi(
            codes, name=path.stem, origin=origin, sets=sets, source=path.name
        )
    if output:
        write_output(output, codebook.text)
        click.echo(
            f"Wrote {output}: {len(codebook.codes)} codes ({len(codebook.codable)} codable), "
            f"{len(codebook.sets)} sets."
        )
    else:
        click.echo(codebook.text, nl=False)
