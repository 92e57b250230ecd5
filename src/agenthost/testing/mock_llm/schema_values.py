"""Build a value that conforms to a JSON schema (tool arguments, structured outputs).

Handles what pydantic and the Agents SDK emit: ``type`` (also as a list), ``properties`` and
``required``, ``items``, ``enum``, ``const``, ``anyOf``/``oneOf``/``allOf`` and local
``$ref`` into ``$defs``/``definitions``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_MAX_DEPTH = 16
_NO_VALUE = object()


@dataclass
class ValueSource:
    """Where leaf values come from.

    ``string`` fills every string; ``numbers`` fill numeric fields in order (0 once used up);
    ``all_properties`` fills optional object properties too (strict schemas).
    """

    string: str
    numbers: list[float] = field(default_factory=list)
    all_properties: bool = False

    def next_number(self) -> float:
        return self.numbers.pop(0) if self.numbers else 0.0


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text``, in order."""
    return [float(token) for token in _NUMBER.findall(text)]


def example_value(schema: Mapping[str, Any], source: ValueSource) -> Any:
    """A value valid against ``schema`` (the root schema, whose ``$defs`` resolve refs)."""
    return _value(schema, schema, source, 0)


def _value(schema: Mapping[str, Any], root: Mapping[str, Any], src: ValueSource, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return None
    inner = _inner_schema(schema, root)
    if inner is not None:
        return _value(inner, root, src, depth + 1)
    fixed = _fixed_value(schema)
    if fixed is not _NO_VALUE:
        return fixed
    kind = _type_of(schema)
    if kind == "object":
        return _object(schema, root, src, depth)
    if kind == "array":
        count = int(schema.get("minItems", 0))
        items = schema.get("items")
        item_schema: Mapping[str, Any] = items if isinstance(items, Mapping) else {}
        return [_value(item_schema, root, src, depth + 1) for _ in range(count)]
    return _scalar(kind, src)


def _inner_schema(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema to use instead of ``schema`` for a ``$ref`` or a combinator."""
    if "$ref" in schema:
        return _resolve(str(schema["$ref"]), root)
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return _first_non_null(options)
    return None


def _fixed_value(schema: Mapping[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    return _NO_VALUE


def _object(
    schema: Mapping[str, Any], root: Mapping[str, Any], src: ValueSource, depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required = schema.get("required")
    wanted = set(required) if isinstance(required, list) else set()
    return {
        name: _value(prop, root, src, depth + 1)
        for name, prop in properties.items()
        if isinstance(prop, Mapping) and (src.all_properties or name in wanted)
    }


def _scalar(kind: str, src: ValueSource) -> Any:
    if kind == "integer":
        return int(src.next_number())
    if kind == "number":
        number = src.next_number()
        return int(number) if number.is_integer() else number
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return src.string


def _type_of(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        non_null = [str(kind) for kind in declared if kind != "null"]
        return non_null[0] if non_null else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _first_non_null(options: list[Any]) -> Mapping[str, Any]:
    mappings = [option for option in options if isinstance(option, Mapping)]
    for option in mappings:
        if option.get("type") != "null":
            return option
    return mappings[0] if mappings else {}


def _resolve(ref: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    if not ref.startswith("#"):
        return {}
    node: Any = root
    for part in ref.lstrip("#").strip("/").split("/"):
        if not part:
            continue
        key = part.replace("~1", "/").replace("~0", "~")
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}
