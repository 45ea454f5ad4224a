"""Codebooks: load and validate YAML, show, export, and keep them in the store by hash."""

from qualcode.codebook.load import default_codebook_path, load_codebook, parse_codebook
from qualcode.codebook.model import HARDY_FAMILIES, Code, Codebook
from qualcode.codebook.store import load_stored_codebook, store_codebook

__all__ = [
    "HARDY_FAMILIES",
    "Code",
    "Codebook",
    "default_codebook_path",
    "load_codebook",
    "load_stored_codebook",
    "parse_codebook",
    "store_codebook",
]
