"""Run input policy: validate and strip control characters — never HTML-escape.

Model input is text, not HTML: ``a < b`` and code must reach the model unchanged. Escaping
belongs where output is rendered as HTML. Control characters other than newline and tab are
removed because they have no meaning in a prompt and can hide text from reviewers and logs.
"""

from __future__ import annotations

import re

from agenthost.errors import ValidationFailed

# C0 controls except \t (0x09) and \n (0x0a), DEL, and C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_input(text: str, *, max_chars: int, field: str = "input") -> str:
    """The input as the model should see it, or ValidationFailed (422) naming ``field``."""
    cleaned = strip_control(text)
    if len(cleaned) > max_chars:
        raise ValidationFailed.for_field(
            field, f"at most {max_chars} characters are allowed (got {len(cleaned)})", "too_long"
        )
    if not cleaned.strip():
        raise ValidationFailed.for_field(field, "must not be empty", "empty")
    return cleaned
