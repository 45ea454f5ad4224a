"""The project store: one SQLite file holding documents, segments, codebooks, codings and runs."""

from qualcode.store.db import DEFAULT_PROJECT, Store, create_project, open_or_create, open_project
from qualcode.store.schema import SCHEMA_VERSION

__all__ = [
    "DEFAULT_PROJECT",
    "SCHEMA_VERSION",
    "Store",
    "create_project",
    "open_or_create",
    "open_project",
]
