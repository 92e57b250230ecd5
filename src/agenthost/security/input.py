"""Run input policy: validate, normalise and strip control characters — never HTML-escape.

Model input is text, not HTML: ``a < b`` and code must reach the model unchanged. Escaping
belongs where output is rendered as HTML. Control characters other than newline and tab are
removed because they have no meaning in a prompt and can hide text from reviewers and logs.
Each agent has an :class:`InputPolicy` (set when it is registered); the admission stage applies
it to a plain string input and to every text of a conversation input alike.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import nh3

from agenthost.errors import ValidationFailed

# C0 controls except \t (0x09) and \n (0x0a), DEL, and C1 controls.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What an HTML parser would read as the start of a tag, comment or declaration.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
CONTENT_TYPES = frozenset({"input_text", "input_image"})
"""Content part types a conversation input may carry."""

Normalization = Literal["NFC", "NFKC"] | None


@dataclass(frozen=True, slots=True)
class InputPolicy:
    """What an agent accepts as input. ``None`` limits mean the settings' defaults."""

    max_chars: int | None = None
    """Longest input, in characters over all texts; None: the ``max_input_chars`` setting."""
    max_items: int = 100
    """Most messages in a conversation input (a list of messages)."""
    content_types: frozenset[str] = frozenset({"input_text"})
    """Content part types accepted in conversation messages (``input_text``, ``input_image``)."""
    normalization: Normalization = "NFC"
    """Unicode normal form applied to every text (``NFKC`` also folds look-alikes); None: as
    sent."""
    strip_control: bool = True
    """Remove control characters other than newline and tab."""
    strip_html: bool = False
    """Remove HTML markup (with ``nh3``), for agents whose output is shown as HTML. The text
    is then read as HTML: ``a<b`` loses ``<b``; leave it off for agents that take code."""

    def check(self, name: str) -> None:
        """ValueError naming the agent when the policy is inconsistent."""
        if self.max_chars is not None and self.max_chars < 1:
            raise ValueError(f"agent {name!r}: input max_chars must be at least 1")
        if self.max_items < 1:
            raise ValueError(f"agent {name!r}: input max_items must be at least 1")
        unknown = sorted(self.content_types - CONTENT_TYPES)
        if unknown or "input_text" not in self.content_types:
            raise ValueError(
                f"agent {name!r}: input content_types must include 'input_text' and be among "
                f"{sorted(CONTENT_TYPES)} (got {sorted(self.content_types)})"
            )


def strip_control(text: str) -> str:
    return CONTROL.sub("", text)


def strip_html(text: str) -> str:
    """``text`` without HTML elements (script and style with their content), entities decoded,
    and no ``<`` left that an HTML parser would read as markup."""
    cleaned = nh3.clean(text, tags=set(), clean_content_tags={"script", "style"})
    return _TAG_START.sub("&lt;", html.unescape(cleaned))


def clean_text(text: str, policy: InputPolicy) -> str:
    """One text as the model should see it under ``policy`` (lengths are checked apart)."""
    if policy.normalization is not None:
        text = unicodedata.normalize(policy.normalization, text)
    if policy.strip_control:
        text = strip_control(text)
    if policy.strip_html:
        text = strip_html(text)
    return text


def clean_input(
    value: str | Sequence[dict[str, Any]],
    policy: InputPolicy,
    *,
    max_chars: int,
    field: str = "input",
) -> str | list[dict[str, Any]]:
    """The input as the model should see it, or ValidationFailed (422) naming the field.

    ``max_chars`` is the default for a policy without its own limit.
    """
    limit = policy.max_chars or max_chars
    if isinstance(value, str):
        cleaned = clean_text(value, policy)
        _check_length(field, len(cleaned), limit)
        if not cleaned.strip():
            raise ValidationFailed.for_field(field, "must not be empty", "empty")
        return cleaned
    if len(value) > policy.max_items:
        raise ValidationFailed.for_field(
            field, f"at most {policy.max_items} messages are allowed (got {len(value)})", "too_many"
        )
    messages = [_clean_message(m, policy, f"{field}.{i}") for i, m in enumerate(value)]
    texts = [text for message in messages for text in _texts(message)]
    _check_length(field, sum(len(text) for text in texts), limit)
    if not any(text.strip() for text in texts):
        raise ValidationFailed.for_field(field, "must contain some text", "empty")
    return messages


def _clean_message(message: dict[str, Any], policy: InputPolicy, field: str) -> dict[str, Any]:
    content = message["content"]
    if isinstance(content, str):
        return {**message, "content": clean_text(content, policy)}
    parts = []
    for index, part in enumerate(content):
        kind = part["type"]
        if kind not in policy.content_types:
            raise ValidationFailed.for_field(
                f"{field}.content.{index}.type",
                f"this agent does not accept {kind!r} content",
                "content_type",
            )
        parts.append({**part, "text": clean_text(part["text"], policy)} if "text" in part else part)
    return {**message, "content": parts}


def _texts(message: dict[str, Any]) -> list[str]:
    content = message["content"]
    if isinstance(content, str):
        return [content]
    return [part["text"] for part in content if "text" in part]


def _check_length(field: str, length: int, limit: int) -> None:
    if length > limit:
        raise ValidationFailed.for_field(
            field, f"at most {limit} characters are allowed (got {length})", "too_long"
        )
