"""The codebook: the shipped one is complete, a broken one is refused with file, line, field."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from qualcode.cli import cli
from qualcode.codebook import HARDY_FAMILIES, default_codebook_path, load_codebook
from qualcode.codebook.export import to_csv, to_markdown
from qualcode.errors import CodebookError


@pytest.fixture(scope="module")
def shipped():
    return load_codebook(default_codebook_path())


def test_shipped_codebook_covers_the_five_families(shipped):
    assert len(shipped.codable) >= 30
    for family in HARDY_FAMILIES:
        leaves = [c for c in shipped.codable if c.family == family]
        assert sum(c.polarity == "barrier" for c in leaves) >= 3, family
        assert sum(c.polarity == "prerequisite" for c in leaves) >= 3, family


def test_every_shipped_code_is_fully_specified(shipped):
    for code in shipped.codable:
        assert code.definition, code.id
        assert code.include, code.id
        assert code.exclude, code.id
        assert len(code.examples) >= 3, code.id
        assert len(code.near_misses) >= 1, code.id
        assert code.patterns, code.id
        if code.pair:
            assert shipped.codes[code.pair].polarity != code.polarity, code.id


def test_williamsons_prerequisites_have_homes(shipped):
    # Williamson (2001): legitimacy, advantages, equivalency (status); purpose, procedures
    # (procedural); structures, internal capacity (structural); boundary spanners, trust
    # (professional); funding (financial).
    for code in (
        "status.political_legitimacy",
        "status.mutual_advantage",
        "status.equivalency",
        "procedural.clear_purpose",
        "procedural.clear_accountability",
        "structural.clear_responsibilities",
        "structural.stable_structures",
        "professional.boundary_spanners",
        "professional.trust_relationships",
        "financial.dedicated_funding",
    ):
        assert shipped.codes[code].polarity == "prerequisite"


def test_every_prerequisite_can_flip_to_a_barrier_or_says_why_not(shipped):
    flips = {
        c.id: shipped.paired_barrier(c.id) for c in shipped.codable if c.polarity == "prerequisite"
    }
    assert sum(v is not None for v in flips.values()) >= len(flips) - 3


BAD = [
    ("duplicate-id.yaml", 9, "codes[2].id", "duplicate id 'financial.pooled_budget'"),
    ("unknown-parent.yaml", 6, "codes[1].id", "unknown parent 'procedural'"),
    ("family-mismatch.yaml", 9, "codes[1].family", "does not match the id"),
    ("bad-pattern.yaml", 11, "codes[1].patterns[1]", "invalid spaCy pattern ([token 0 -> LEMMMA]"),
    ("missing-label.yaml", 6, "codes[1].label", "missing"),
    (
        "bad-polarity.yaml",
        8,
        "codes[1].polarity",
        "Input should be 'barrier', 'prerequisite' or 'neutral'",
    ),
    ("broken-yaml.yaml", 5, None, "not valid YAML"),
]


@pytest.mark.parametrize(("name", "line", "field", "message"), BAD, ids=[b[0] for b in BAD])
def test_broken_codebooks_name_file_line_and_field(data, name, line, field, message):
    path = data / "codebooks" / name
    with pytest.raises(CodebookError) as caught:
        load_codebook(path)
    error = caught.value
    assert error.line == line
    assert error.field == field
    assert message in str(error)
    result = CliRunner().invoke(cli, ["codebook", "validate", str(path)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert f"{name}:{line}" in result.stderr


def test_validate_show_and_export(data, tmp_path):
    runner = CliRunner()
    good = data / "codebooks" / "good.yaml"
    result = runner.invoke(cli, ["codebook", "validate", str(good)])
    assert result.exit_code == 0
    assert "3 codable codes in 2 families" in result.output
    shown = runner.invoke(cli, ["codebook", "show", str(good)])
    assert "  financial.budget_guarding  Budget guarding [barrier]" in shown.output
    out = tmp_path / "appendix.md"
    assert (
        runner.invoke(cli, ["codebook", "export", "--format", "md", "-o", str(out)]).exit_code == 0
    )
    text = out.read_text()
    for code in load_codebook(default_codebook_path()).codable:
        assert f"`{code.id}`" in text
    codes_csv = to_csv(load_codebook(good)).splitlines()
    assert codes_csv[0].startswith("id,parent,family,label,polarity")
    assert len(codes_csv) == 6
    assert "Near misses (not this code)" in to_markdown(load_codebook(good))


def test_hash_follows_content(data, tmp_path):
    original = (data / "codebooks" / "good.yaml").read_text()
    edited = tmp_path / "edited.yaml"
    edited.write_text(original.replace("Partners pool their money.", "Partners pool money."))
    assert load_codebook(edited).hash != load_codebook(data / "codebooks" / "good.yaml").hash
