"""Reading and validating a codebook file; every error names the file, line and field."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qualcode.codebook.model import Code, Codebook, CodebookSpec, CodeSpec
from qualcode.data import shipped_codebook_path
from qualcode.errors import CodebookError
from qualcode.textio import check_yaml, decode, normalise, yaml_problem

# libyaml's C parser where PyYAML was built with it: the pure-Python one takes most of a second
# on the shipped codebook.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ID_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")


def default_codebook_path() -> Path:
    """The shipped codebook of barriers and prerequisites: package data (``qualcode/data``), a
    copy of ``codebooks/partnership-barriers.yaml``."""
    path = shipped_codebook_path()
    if not path.is_file():
        raise CodebookError(path, "the shipped codebook is missing; pass --codebook FILE")
    return path


@lru_cache(maxsize=1)
def shipped_codebook_hash() -> str:
    """The content hash of the shipped codebook, computed as ``parse_codebook`` does."""
    path = default_codebook_path()
    return _text_hash(normalise(decode(path.read_bytes(), path)))


def _text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Lines:
    """Line numbers of YAML nodes by path (('codes', 3, 'label') -> 57)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: dict[tuple[Any, ...], int] | None = None

    @property
    def lines(self) -> dict[tuple[Any, ...], int]:
        # Composed only when an error needs a line number: composing the node tree costs as
        # much as loading the file again.
        if self._lines is None:
            self._lines = {}
            try:
                root = yaml.compose(self.text, Loader=SafeLoader)
            except yaml.YAMLError:
                root = None
            if root is not None:
                self._walk(root, ())
        return self._lines

    def _walk(self, node: yaml.Node, path: tuple[Any, ...]) -> None:
        lines = self._lines
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self._walk(value, (*path, key.value))
                lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def line(self, path: tuple[Any, ...]) -> int | None:
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get(())


def _field(path: tuple[Any, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_codebook(path: str | Path) -> Codebook:
    """Load and validate a codebook YAML file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CodebookError(path, f"cannot read ({exc.strerror})") from exc
    return parse_codebook(normalise(decode(data, path)), path)


def parse_codebook(text: str, path: Path | None = None, *, raw: Any = None) -> Codebook:
    """Validate a codebook's text. ``raw`` is its already-parsed data, when the caller has it
    (the store keeps a JSON copy: parsing the YAML again costs a quarter of a second)."""
    origin = path or "<codebook>"
    if raw is None:
        try:
            check_yaml(text, origin)
            raw = yaml.load(text, Loader=SafeLoader)
        except yaml.YAMLError as exc:
            problem, line = yaml_problem(exc)
            raise CodebookError(origin, f"not valid YAML ({problem})", line=line) from exc
    lines = _Lines(text)
    if not isinstance(raw, dict):
        raise CodebookError(origin, "a codebook is a mapping with name and codes", line=1)
    try:
        spec = CodebookSpec.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        elif error["type"] == "missing":
            message = "missing"
        raise _error(origin, lines, loc, message) from exc
    codes = _check_codes(spec.codes, origin, lines)
    codebook = Codebook(
        raw=raw,
        name=spec.name,
        version=spec.version,
        authors=spec.authors,
        description=spec.description,
        references=spec.references,
        codes=codes,
        hash=_text_hash(text),
        text=text,
        path=path.resolve() if path else None,
        training=spec.training,
        sets=spec.sets,
    )
    for index, group in enumerate(spec.sets):
        for number, member in enumerate(group.codes):
            if member not in codes:
                raise _error(
                    origin, lines, ("sets", index, "codes", number), f"unknown code {member!r}"
                )
    codebook.warnings.extend(_quality_warnings(codebook))
    return codebook


def _error(origin: Any, lines: _Lines, key: tuple[Any, ...], reason: str) -> CodebookError:
    """An error at the YAML node ``key`` (e.g. ("codes", 3, "pair")), with its line and field."""
    return CodebookError(origin, reason, line=lines.line(key), field=_field(key))


def _check_codes(specs: list[CodeSpec], origin: Any, lines: _Lines) -> dict[str, Code]:
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        where = ("codes", index, "id")
        if not ID_RE.match(spec.id):
            raise _error(
                origin,
                lines,
                where,
                f"id {spec.id!r} must be lower-case words joined by dots "
                "(e.g. financial.pooled_budget)",
            )
        if spec.id in seen:
            raise _error(
                origin, lines, where, f"duplicate id {spec.id!r} (first at codes[{seen[spec.id]}])"
            )
        seen[spec.id] = index
    codes: dict[str, Code] = {}
    for index, spec in enumerate(specs):
        parent = spec.parent if spec.parent is not None else spec.id.rpartition(".")[0] or None
        family = spec.id.split(".")[0]
        if parent is not None and parent not in seen:
            key = ("codes", index, "parent" if spec.parent else "id")
            raise _error(origin, lines, key, f"unknown parent {parent!r}")
        if parent is not None and not spec.id.startswith(parent + "."):
            raise _error(
                origin,
                lines,
                ("codes", index, "parent"),
                f"id {spec.id!r} must start with its parent's id {parent!r}",
            )
        if spec.family is not None and spec.family != family:
            raise _error(
                origin,
                lines,
                ("codes", index, "family"),
                f"family {spec.family!r} does not match the id {spec.id!r} (family {family!r})",
            )
        if spec.pair is not None and spec.pair not in seen:
            raise _error(origin, lines, ("codes", index, "pair"), f"unknown code {spec.pair!r}")
        for attr in ("patterns", "exclude_patterns"):
            for number, pattern in enumerate(getattr(spec, attr)):
                problem = pattern_problem(pattern)
                if problem:
                    key = ("codes", index, attr, number)
                    raise _error(origin, lines, key, f"invalid spaCy pattern ({problem})")
        codes[spec.id] = Code(
            id=spec.id,
            label=spec.label,
            polarity=spec.polarity,
            family=family,
            parent=parent,
            definition=(spec.definition or "").strip(),
            pair=spec.pair,
            include=tuple(spec.include),
            exclude=tuple(spec.exclude),
            examples=tuple(spec.examples),
            near_misses=tuple(spec.near_misses),
            patterns=tuple(tuple(p) for p in spec.patterns),
            exclude_patterns=tuple(tuple(p) for p in spec.exclude_patterns),
            guid=spec.guid,
            color=spec.color,
        )
    return codes


@lru_cache(maxsize=1)
def _validating_matcher():
    import spacy
    from spacy.matcher import Matcher

    return Matcher(spacy.blank("en").vocab, validate=True)


_STRING_ATTRS = {"LEMMA", "LOWER", "ORTH", "TEXT", "NORM"}
_FLAG_ATTRS = {"IS_PUNCT", "IS_ALPHA", "IS_DIGIT", "IS_STOP", "LIKE_NUM"}


def _plainly_valid(pattern: list[dict[str, Any]]) -> bool:
    """True for the common shapes (string or IN-list of strings, boolean flags, OP) that spaCy
    certainly accepts; validating 400 patterns through spaCy's schema takes most of a second."""
    for token in pattern:
        if not isinstance(token, dict):
            return False
        for key, value in token.items():
            if key in _STRING_ATTRS:
                ok = isinstance(value, str) or (
                    isinstance(value, dict)
                    and set(value) == {"IN"}
                    and isinstance(value["IN"], list)
                    and all(isinstance(v, str) for v in value["IN"])
                )
            elif key in _FLAG_ATTRS:
                ok = isinstance(value, bool)
            elif key == "OP":
                ok = value in ("?", "*", "+", "!")
            else:
                ok = False
            if not ok:
                return False
    return True


def pattern_problem(pattern: list[dict[str, Any]]) -> str | None:
    """Why spaCy's Matcher would refuse this token pattern, or None if it is valid."""
    if not pattern:
        return "empty pattern"
    if _plainly_valid(pattern):
        return None
    matcher = _validating_matcher()
    try:
        matcher.add("_check", [pattern])
    except Exception as exc:  # spaCy raises ValueError, MatchPatternError, KeyError...
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        # spaCy lists problems as "- [pattern -> 0 -> LEMMMA] Extra inputs are not permitted"
        details = [line.lstrip("- ").replace("pattern -> ", "token ") for line in lines[1:]]
        detail = next((d for d in details if d.startswith("[")), lines[0] if lines else "")
        return " ".join(detail.split())[:200]
    finally:
        if "_check" in matcher:
            matcher.remove("_check")
    return None


def _quality_warnings(codebook: Codebook) -> list[str]:
    warnings = []
    for code in codebook.codable:
        if not code.definition:
            warnings.append(f"{code.id}: no definition")
        if not code.examples:
            warnings.append(f"{code.id}: no examples (the model coder learns from them)")
    return warnings
