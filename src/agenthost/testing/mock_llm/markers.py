"""Control markers that tests embed in user text.

- ``[[tool:NAME]]`` / ``[[tool:NAME {"json": "args"}]]`` — call this tool (brain); several
  markers: call each of them, in parallel in one response.
- ``[[fault:KIND]]`` / ``[[fault:429 retry_after=2]]`` — inject a fault (mock server only).
- ``[[sleep:MS]]`` — wait before answering (mock server only).

Markers are stripped from the text the brain echoes or derives arguments from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TOOL = re.compile(r"\[\[tool:([A-Za-z0-9_.\-]+)(?:\s+(\{.*?\}))?\s*\]\]", re.DOTALL)
_FAULT = re.compile(r"\[\[fault:([A-Za-z0-9]+)((?:\s+[A-Za-z_]+=[^\s\]]+)*)\s*\]\]")
_SLEEP = re.compile(r"\[\[sleep:(\d+)\s*\]\]")


@dataclass(frozen=True)
class ToolMarker:
    """An explicit request to call ``name`` (with ``arguments`` if given)."""

    name: str
    arguments: dict[str, Any] | None


@dataclass(frozen=True)
class FaultMarker:
    """An explicit request to fail this request with ``kind``."""

    kind: str
    params: dict[str, str]


def find_tool_marker(text: str) -> ToolMarker | None:
    """The first ``[[tool:...]]`` marker in ``text``; malformed JSON args count as no args."""
    match = _TOOL.search(text)
    if match is None:
        return None
    arguments: dict[str, Any] | None = None
    if match.group(2):
        try:
            parsed = json.loads(match.group(2))
        except json.JSONDecodeError:
            parsed = None
        arguments = parsed if isinstance(parsed, dict) else None
    return ToolMarker(name=match.group(1), arguments=arguments)


def find_tool_markers(text: str) -> list[ToolMarker]:
    """Every ``[[tool:...]]`` marker in ``text``, in order."""
    found = []
    for match in _TOOL.finditer(text):
        marker = find_tool_marker(match.group(0))
        if marker is not None:
            found.append(marker)
    return found


def find_fault_marker(text: str) -> FaultMarker | None:
    """The first ``[[fault:...]]`` marker in ``text``."""
    match = _FAULT.search(text)
    if match is None:
        return None
    params: dict[str, str] = {}
    for pair in match.group(2).split():
        key, _, value = pair.partition("=")
        params[key] = value
    return FaultMarker(kind=match.group(1).lower(), params=params)


def find_sleep_ms(text: str) -> int:
    """Milliseconds asked for by a ``[[sleep:MS]]`` marker, 0 when there is none."""
    match = _SLEEP.search(text)
    return int(match.group(1)) if match else 0


def strip_markers(text: str) -> str:
    """``text`` without any control marker, whitespace collapsed at the edges."""
    for pattern in (_TOOL, _FAULT, _SLEEP):
        text = pattern.sub("", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()
