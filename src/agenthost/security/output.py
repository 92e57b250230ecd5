"""Escaping model output where it is rendered, never before.

A terminal interprets control characters (ANSI escape sequences can rewrite the screen, set
the clipboard or the window title), so text shown on the console has them made visible.
agenthost renders no output as HTML; JSON responses carry ``nosniff`` and a CSP that lets
nothing load or run.
"""

from __future__ import annotations

from agenthost.security.input import CONTROL


def for_terminal(text: str) -> str:
    """``text`` with control characters other than newline and tab shown as ``\\xNN``."""
    return CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
