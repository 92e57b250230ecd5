"""The deterministic "brain" shared by the mock LLM server and the offline demo model.

Pure functions over a normalised conversation. Rules, in order:

1. Trailing tool results answer the last tool calls. After a handoff (``transfer_to_*``) the
   turn starts afresh on the last user message (rule 2 again, for the specialist's tools);
   otherwise the answer is ``"Result: "`` + the outputs joined with ``"; "``.
2. Last item is user text and tools are offered: an explicit ``[[tool:NAME {args}]]`` marker
   wins (several markers: one call for each, in one response), else the tool sharing the
   most words with the text (at least one).
3. No tool: reply ``prefix + user text``.
4. With an output schema, every text answer is instead a JSON object conforming to it.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Sequence

from .conversation import (
    AssistantMessage,
    BrainReply,
    BrainRequest,
    ConversationItem,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from .markers import find_tool_marker, find_tool_markers, strip_markers
from .schema_values import ValueSource, example_value, numbers_in

HANDOFF_PREFIX = "transfer_to_"

_STOP_WORDS_TEXT = """
the and for with you your this that what whats please can could would should from are how
about into tell give get use tool call handoff transfer agent handle request some any all its
has have was were will does did not but who why which there here them they our out via need want
"""
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


def estimate_tokens(text: str) -> int:
    """Roughly four characters per token, never below one."""
    return max(1, round(len(text) / 4))


def respond(request: BrainRequest, *, reply_prefix: str) -> BrainReply:
    """Decide the model's answer to ``request`` (see the module docstring for the rules)."""
    items = list(request.items)
    user_text = last_user_text(items)
    trailing = _trailing_results(items)
    names = {item.call_id: item.name for item in items if isinstance(item, ToolCall)}
    if trailing and not any(names.get(r.call_id, "").startswith(HANDOFF_PREFIX) for r in trailing):
        result_text = "Result: " + "; ".join(result.output for result in trailing)
        return _text_reply(request, result_text)
    fresh_turn = bool(trailing) or (bool(items) and isinstance(items[-1], UserMessage))
    if fresh_turn and request.tools:
        excluded = _handoffs_since_last_user(items)
        several = _marked_calls(request, user_text, excluded)
        if len(several) > 1:
            return _reply(request, text=None, tool_calls=several)
        call = choose_tool_call(request, user_text, excluded=excluded)
        if call is not None:
            return _reply(request, text=None, tool_calls=(call,))
    plain = strip_markers(user_text)
    return _text_reply(request, f"{reply_prefix}{plain}", schema_string=plain)


def choose_tool_call(
    request: BrainRequest, user_text: str, *, excluded: frozenset[str] = frozenset()
) -> ToolCall | None:
    """Rule 2: the tool call for ``user_text``, or None when no offered tool fits."""
    tools = [tool for tool in request.tools if tool.name not in excluded]
    plain = strip_markers(user_text)
    marker = find_tool_marker(user_text)
    chosen = next((t for t in tools if marker and t.name == marker.name), None)
    if chosen is None:
        chosen = _best_overlap(tools, plain)
    if chosen is None:
        return None
    source = ValueSource(
        string=argument_string(plain), numbers=numbers_in(plain), all_properties=chosen.strict
    )
    arguments = example_value(chosen.parameters, source)
    if not isinstance(arguments, dict):
        arguments = {}
    if marker is not None and marker.name == chosen.name and marker.arguments:
        arguments.update(marker.arguments)
    encoded = json.dumps(arguments, separators=(",", ":"))
    return ToolCall(call_id=_call_id(request, chosen.name), name=chosen.name, arguments=encoded)


def _marked_calls(
    request: BrainRequest, user_text: str, excluded: frozenset[str]
) -> tuple[ToolCall, ...]:
    """One call per ``[[tool:...]]`` marker naming an offered tool, with its arguments."""
    offered = {tool.name for tool in request.tools if tool.name not in excluded}
    calls = []
    for index, marker in enumerate(find_tool_markers(user_text)):
        if marker.name in offered:
            arguments = json.dumps(marker.arguments or {}, separators=(",", ":"))
            call_id = _call_id(request, f"{marker.name}#{index}")
            calls.append(ToolCall(call_id=call_id, name=marker.name, arguments=arguments))
    return tuple(calls)


def argument_string(text: str) -> str:
    """The last capitalised word that is not the first word, else the whole text.

    One-letter words ("I") do not count as names.
    """
    words = [word.strip(string.punctuation) for word in text.split()]
    capitalised = [word for word in words[1:] if len(word) > 1 and word[0].isupper()]
    return capitalised[-1] if capitalised else text.strip()


def words_of(text: str) -> set[str]:
    """Lower-case words of at least three letters, stop words removed."""
    return {
        word
        for word in _WORD_SPLIT.split(text.lower())
        if len(word) >= 3 and word not in _STOP_WORDS
    }


def last_user_text(items: Sequence[ConversationItem]) -> str:
    for item in reversed(items):
        if isinstance(item, UserMessage):
            return item.text
    return ""


def _best_overlap(tools: Sequence[ToolSpec], text: str) -> ToolSpec | None:
    user_words = words_of(text)
    best: ToolSpec | None = None
    best_score = 0
    for tool in tools:
        score = len(user_words & words_of(f"{tool.name} {tool.description}"))
        if score > best_score:
            best, best_score = tool, score
    return best


def _trailing_results(items: Sequence[ConversationItem]) -> list[ToolResult]:
    trailing: list[ToolResult] = []
    for item in reversed(items):
        if not isinstance(item, ToolResult):
            break
        trailing.append(item)
    return trailing[::-1]


def _handoffs_since_last_user(items: Sequence[ConversationItem]) -> frozenset[str]:
    done: set[str] = set()
    for item in reversed(items):
        if isinstance(item, UserMessage):
            break
        if isinstance(item, ToolCall) and item.name.startswith(HANDOFF_PREFIX):
            done.add(item.name)
    return frozenset(done)


def _text_reply(
    request: BrainRequest, text: str, *, schema_string: str | None = None
) -> BrainReply:
    if request.output_schema is None:
        return _reply(request, text=text, tool_calls=())
    source = ValueSource(string=text if schema_string is None else schema_string)
    value = example_value(request.output_schema, source)
    return _reply(request, text=json.dumps(value), tool_calls=())


def _reply(
    request: BrainRequest, *, text: str | None, tool_calls: tuple[ToolCall, ...]
) -> BrainReply:
    output = text if text is not None else "".join(c.name + c.arguments for c in tool_calls)
    return BrainReply(
        text=text,
        tool_calls=tool_calls,
        input_tokens=estimate_tokens(_input_text(request)),
        output_tokens=estimate_tokens(output),
    )


def _input_text(request: BrainRequest) -> str:
    parts = [request.system]
    for item in request.items:
        if isinstance(item, UserMessage | AssistantMessage):
            parts.append(item.text)
        elif isinstance(item, ToolCall):
            parts.append(item.name + item.arguments)
        else:
            parts.append(item.output)
    return "\n".join(parts)


def _call_id(request: BrainRequest, tool_name: str) -> str:
    digest = hashlib.sha256(f"{request.system}|{request.items!r}|{tool_name}".encode())
    return "call_" + digest.hexdigest()[:24]
