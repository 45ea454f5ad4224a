"""The codebook as data: a tree of codes with definitions, criteria, examples and patterns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Polarity = Literal["barrier", "prerequisite", "neutral"]
HARDY_FAMILIES = ("structural", "procedural", "financial", "professional", "status")


class CodeSpec(BaseModel):
    """One code as written in the YAML file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    polarity: Polarity
    definition: str | None = None
    parent: str | None = None
    family: str | None = None
    pair: str | None = None
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    near_misses: list[str] = Field(default_factory=list)
    patterns: list[list[dict[str, Any]]] = Field(default_factory=list)
    exclude_patterns: list[list[dict[str, Any]]] = Field(default_factory=list)
    # Kept from REFI-QDA exchange (NVivo, ATLAS.ti, MAXQDA, QualCoder): the code's GUID in the
    # other tool, and its colour (#RRGGBB).
    guid: str | None = None
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")


class SetSpec(BaseModel):
    """A named group of codes (REFI-QDA's Set, ATLAS.ti's code group), outside the tree."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    description: str | None = None
    codes: list[str] = Field(default_factory=list)


class TrainingSpec(BaseModel):
    """Human codings the model coder learns from when a project has none of its own."""

    model_config = ConfigDict(extra="forbid")

    codings: str
    corpus: str


class CodebookSpec(BaseModel):
    """The whole YAML file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: str | None = None
    authors: list[str] = Field(default_factory=list)
    description: str | None = None
    references: list[str] = Field(default_factory=list)
    training: TrainingSpec | list[TrainingSpec] | None = None
    codes: list[CodeSpec] = Field(min_length=1)
    sets: list[SetSpec] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Code:
    """A validated code with its place in the tree."""

    id: str
    label: str
    polarity: str
    family: str
    parent: str | None
    definition: str
    pair: str | None = None
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    near_misses: tuple[str, ...] = ()
    patterns: tuple[tuple[dict[str, Any], ...], ...] = ()
    exclude_patterns: tuple[tuple[dict[str, Any], ...], ...] = ()
    guid: str | None = None
    color: str | None = None


@dataclass(slots=True)
class Codebook:
    """A validated codebook: codes in file order, looked up by id."""

    name: str
    version: str | None
    authors: list[str]
    description: str | None
    references: list[str]
    codes: dict[str, Code]
    hash: str
    text: str
    path: Path | None = None
    training: TrainingSpec | list[TrainingSpec] | None = None
    warnings: list[str] = field(default_factory=list)
    sets: list[SetSpec] = field(default_factory=list)
    raw: Any = None  # the parsed YAML, kept so the store can save it as JSON

    def children(self, code_id: str | None) -> list[Code]:
        return [c for c in self.codes.values() if c.parent == code_id]

    @property
    def families(self) -> list[str]:
        return [c.id for c in self.codes.values() if c.parent is None]

    @property
    def codable(self) -> list[Code]:
        """Codes a segment can be given: the leaves of the tree."""
        parents = {c.parent for c in self.codes.values()}
        return [c for c in self.codes.values() if c.id not in parents]

    def paired_barrier(self, code_id: str) -> str | None:
        """The barrier that answers a prerequisite (its own ``pair``, or a barrier naming it)."""
        code = self.codes[code_id]
        if code.pair and self.codes[code.pair].polarity == "barrier":
            return code.pair
        for other in self.codes.values():
            if other.pair == code_id and other.polarity == "barrier":
                return other.id
        return None

    def training_paths(self) -> list[tuple[Path, Path]]:
        """Each training source's codings and corpus, resolved against the codebook's folder."""
        if self.training is None or self.path is None:
            return []
        base = self.path.parent
        sources = self.training if isinstance(self.training, list) else [self.training]
        return [((base / t.codings).resolve(), (base / t.corpus).resolve()) for t in sources]
