"""Limits on untrusted input, each with a default and an environment variable to raise it.

A file from elsewhere can be built to exhaust memory or time (a YAML "billion laughs", a zip
bomb inside a .docx, a 50 MB line). Every such limit lives here, and the error that enforces
one names the limit and the variable that raises it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limit:
    name: str  # environment variable
    default: int
    what: str  # what is counted, for the message

    @property
    def value(self) -> int:
        raw = os.environ.get(self.name, "")
        try:
            return int(raw) if raw.strip() else self.default
        except ValueError:
            return self.default

    def exceeded(self, found: int | str) -> str:
        """The error text: what was found, the limit, and how to raise it."""
        return (
            f"{found} {self.what}: more than the limit of {self.value} "
            f"(set {self.name} to raise it)"
        )


YAML_ALIASES = Limit("QUALCODE_MAX_YAML_ALIASES", 100, "YAML aliases (*name)")
YAML_CHARACTERS = Limit("QUALCODE_MAX_YAML_CHARS", 5_000_000, "characters of YAML")
YAML_VALUES = Limit("QUALCODE_MAX_YAML_VALUES", 1_000_000, "values once YAML aliases are expanded")
