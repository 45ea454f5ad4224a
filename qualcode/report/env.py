"""The Jinja2 environment every page shares: package templates, autoescape always on."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("qualcode.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = number
    return env


def number(value: float | None, digits: int = 2) -> str:
    """A figure to ``digits`` places; '–' for none, and never '-0.00'."""
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.lstrip("-") if float(text) == 0 else text
