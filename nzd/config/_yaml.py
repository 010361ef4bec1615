"""YAML loading that remembers where each value came from.

Pydantic reports a field path; this module turns it into ``file:line: path:
message`` so that a person can find the typo.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from nzd.errors import ConfigError

__all__ = ["format_loc", "load_model", "read_yaml"]

M = TypeVar("M", bound=BaseModel)
Loc = Sequence[int | str]


class _Document:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.node = yaml.compose(text, Loader=yaml.SafeLoader)

    def line_of(self, loc: Loc) -> int:
        """1-based line of the deepest node on ``loc`` that exists."""
        node = self.node
        if node is None:
            return 1
        line = node.start_mark.line + 1
        for part in loc:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        child = value
                        line = key.start_mark.line + 1
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if 0 <= part < len(node.value):
                    child = node.value[part]
                    line = child.start_mark.line + 1
            if child is None:
                break
            node = child
        return line

    def duplicate_keys(self) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []

        def walk(node: yaml.Node, path: str) -> None:
            if isinstance(node, yaml.MappingNode):
                seen: set[str] = set()
                for key, value in node.value:
                    name = str(key.value)
                    sub = f"{path}.{name}" if path else name
                    if name in seen:
                        found.append((key.start_mark.line + 1, sub))
                    seen.add(name)
                    walk(value, sub)
            elif isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    walk(item, f"{path}[{i}]")

        if self.node is not None:
            walk(self.node, "")
        return found


def format_loc(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<document>"


def read_yaml(path: Path) -> tuple[Any, _Document]:
    """Parse ``path``; a syntax error becomes a :class:`ConfigError` with its line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
        doc = _Document(path, text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{path}:{line}: <document>: invalid YAML: {exc.problem}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}:1: <document>: invalid YAML: {exc}"]) from None
    dups = doc.duplicate_keys()
    if dups:
        raise ConfigError([f"{path}:{line}: {p}: duplicate key" for line, p in dups])
    return data, doc


def _message(error: dict[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    if error.get("type") == "extra_forbidden":
        return "unknown field (check the spelling)"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    return msg[0].lower() + msg[1:] if msg else msg


def load_model(path: str | Path, model: type[M]) -> M:
    """Load ``path`` as ``model``; errors name the file, the line and the field path.

    After pydantic validation the model's ``cross_check()`` (if any) runs and its
    ``(loc, message)`` pairs are reported the same way.
    """
    path = Path(path)
    data, doc = read_yaml(path)
    if data is None:
        data = {}
    errors: list[str] = []
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(err.get("loc", ()))
            # pydantic adds the tag of a discriminated union to the path; drop it
            loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
            errors.append(f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: {_message(dict(err))}")
        raise ConfigError(errors) from None
    cross = getattr(result, "cross_check", None)
    if callable(cross):
        for loc, msg in cross():
            errors.append(f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: {msg}")
    if errors:
        raise ConfigError(errors)
    return result
