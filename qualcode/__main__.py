"""python -m qualcode: the same as the qualcode command."""

from qualcode.cli import cli

if __name__ == "__main__":
    cli()
