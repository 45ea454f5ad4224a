"""The package carries the shipped codebook and its training codings (qualcode/data), so a
wheel installed away from this repository codes and trains; the copies must match their
human-readable sources in codebooks/ and corpora/."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from qualcode.codebook import default_codebook_path, load_codebook
from qualcode.coding.training import Units, default_units, units_from_files
from qualcode.errors import InputError

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("package_data", ROOT / "scripts/package_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_package_data_matches_its_sources():
    stale = [
        str(path.relative_to(ROOT))
        for path, data in _script().expected().items()
        if path.read_bytes() != data
    ]
    assert not stale, f"run scripts/package_data.py: {stale} differ from codebooks/ and corpora/"


def test_shipped_codebook_is_read_from_the_package():
    path = default_codebook_path()
    assert path.parent.name == "data"
    assert path.parent.parent.name == "qualcode"
    assert path.read_bytes() == (ROOT / "codebooks/partnership-barriers.yaml").read_bytes()


def test_shipped_codebook_trains_without_the_corpora(tmp_path):
    # A copy of the shipped codebook where its training paths (../corpora/...) lead nowhere,
    # as in an installed wheel: the units come from the package and equal the corpora's.
    copy = tmp_path / "book" / "partnership-barriers.yaml"
    copy.parent.mkdir()
    shutil.copy(default_codebook_path(), copy)
    book = load_codebook(copy)
    assert not any(codings.exists() for codings, _ in book.training_paths())
    units = default_units(book)
    source = load_codebook(ROOT / "codebooks/partnership-barriers.yaml")
    expected = Units()
    for codings, corpus in source.training_paths():
        expected.extend(units_from_files(codings, corpus, source))
    assert len(units) == len(expected) > 2000
    assert units.texts == expected.texts
    assert units.labels == expected.labels
    assert units.groups == expected.groups
    assert units.provenance() == expected.provenance()


def test_edited_codebook_with_missing_training_data_names_it(tmp_path):
    copy = tmp_path / "edited.yaml"
    copy.write_text(default_codebook_path().read_text() + "\n# edited\n")
    with pytest.raises(InputError, match=r"training data .*gold\.csv not found"):
        default_units(load_codebook(copy))
