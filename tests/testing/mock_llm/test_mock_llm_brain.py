"""The deterministic brain: rules 1-4, argument generation, schema values, markers."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel

from agenthost.testing.mock_llm.brain import argument_string, respond
from agenthost.testing.mock_llm.conversation import (
    AssistantMessage,
    BrainRequest,
    ToolCall,
    ToolResult,
    ToolSpec,
    UserMessage,
)
from agenthost.testing.mock_llm.markers import find_fault_marker, find_sleep_ms, strip_markers
from agenthost.testing.mock_llm.schema_values import ValueSource, example_value

WEATHER = ToolSpec(
    name="get_weather",
    description="Get the current weather for a city.",
    parameters={
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
)
STOCKS = ToolSpec(name="stock_price", description="Look up the stock price of a company ticker.")
HANDOFF = ToolSpec(name="transfer_to_billing", description="Handoff to the billing agent.")


def ask(text: str, *tools: ToolSpec, schema: dict[str, Any] | None = None) -> BrainRequest:
    return BrainRequest(
        system="be nice", items=(UserMessage(text),), tools=tools, output_schema=schema
    )


def test_plain_text_reply_uses_the_prefix_and_strips_markers() -> None:
    reply = respond(ask("hello [[sleep:5]] there"), reply_prefix="P: ")
    assert reply.text == "P: hello there"
    assert reply.tool_calls == ()


def test_tool_chosen_by_word_overlap_with_capitalised_argument() -> None:
    reply = respond(ask("What is the weather in Paris today?", STOCKS, WEATHER), reply_prefix="")
    assert reply.text is None
    (call,) = reply.tool_calls
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert call.call_id.startswith("call_")


def test_argument_string_falls_back_to_the_whole_text() -> None:
    assert argument_string("Weather in Paris, I wonder") == "Paris"
    assert argument_string("Weather today please ") == "Weather today please"


def test_no_overlap_means_no_tool() -> None:
    reply = respond(ask("tell me a joke", WEATHER, STOCKS), reply_prefix="R: ")
    assert reply.text == "R: tell me a joke"


def test_marker_wins_and_its_json_args_are_used() -> None:
    text = 'weather please [[tool:stock_price {"ticker": "ACME"}]]'
    reply = respond(ask(text, WEATHER, STOCKS), reply_prefix="")
    assert reply.tool_calls[0].name == "stock_price"
    assert json.loads(reply.tool_calls[0].arguments) == {"ticker": "ACME"}


def test_several_markers_make_parallel_calls_with_distinct_ids() -> None:
    text = (
        '[[tool:stock_price {"ticker": "A"}]] and [[tool:stock_price {"ticker": "B"}]] '
        '[[tool:nowhere]] [[tool:get_weather {"city": "Oslo"}]]'
    )
    reply = respond(ask(text, WEATHER, STOCKS), reply_prefix="")
    calls = reply.tool_calls
    assert [call.name for call in calls] == ["stock_price", "stock_price", "get_weather"]
    assert [json.loads(call.arguments) for call in calls] == [
        {"ticker": "A"},
        {"ticker": "B"},
        {"city": "Oslo"},
    ]
    assert len({call.call_id for call in calls}) == 3  # (a tool not offered is skipped)


def test_strict_schema_fills_every_property_with_numbers_in_order() -> None:
    strict = ToolSpec(
        name="add_numbers",
        description="Add two numbers",
        parameters={
            "type": "object",
            "properties": {
                "a": {"type": "integer"},
                "b": {"type": "number"},
                "c": {"type": "number"},
                "flag": {"type": "boolean"},
                "unit": {"enum": ["kg", "lb"]},
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": [],
            "additionalProperties": False,
        },
        strict=True,
    )
    reply = respond(ask("please add numbers 3 and 4.5", strict), reply_prefix="")
    args = json.loads(reply.tool_calls[0].arguments)
    assert args == {"a": 3, "b": 4.5, "c": 0, "flag": False, "unit": "kg", "tags": []}


def test_tool_results_produce_the_final_answer() -> None:
    items = (
        UserMessage("weather in Paris and Rome"),
        ToolCall("call_1", "get_weather", '{"city": "Paris"}'),
        ToolCall("call_2", "get_weather", '{"city": "Rome"}'),
        ToolResult("call_1", "Sunny"),
        ToolResult("call_2", "Rainy"),
    )
    reply = respond(BrainRequest(system="", items=items, tools=(WEATHER,)), reply_prefix="")
    assert reply.text == "Result: Sunny; Rainy"


def test_after_a_handoff_the_specialist_gets_a_fresh_turn() -> None:
    items = (
        UserMessage("billing question: what is the weather in Oslo"),
        ToolCall("call_h", "transfer_to_billing", "{}"),
        ToolResult("call_h", '{"assistant": "billing"}'),
    )
    request = BrainRequest(system="", items=items, tools=(HANDOFF, WEATHER))
    reply = respond(request, reply_prefix="")
    assert [call.name for call in reply.tool_calls] == ["get_weather"]
    alone = respond(BrainRequest(system="", items=items, tools=(HANDOFF,)), reply_prefix="S: ")
    assert alone.text == "S: billing question: what is the weather in Oslo"


def test_ids_are_deterministic_and_differ_between_conversations() -> None:
    first = respond(ask("weather in Paris", WEATHER), reply_prefix="")
    again = respond(ask("weather in Paris", WEATHER), reply_prefix="")
    other = respond(ask("weather in Rome", WEATHER), reply_prefix="")
    assert first.tool_calls[0].call_id == again.tool_calls[0].call_id
    assert first.tool_calls[0].call_id != other.tool_calls[0].call_id


def test_usage_is_about_four_chars_per_token() -> None:
    reply = respond(ask("x" * 400), reply_prefix="")
    assert 100 <= reply.input_tokens <= 105
    assert reply.output_tokens == 100
    assert reply.total_tokens == reply.input_tokens + reply.output_tokens
    assert respond(ask(""), reply_prefix="").output_tokens == 1


class Address(BaseModel):
    street: str
    zip_code: int


class Person(BaseModel):
    name: str
    age: int
    kind: Literal["human", "robot"]
    nickname: str | None = None
    home: Address
    friends: list[Address]


def test_structured_output_conforms_to_a_pydantic_schema() -> None:
    schema = Person.model_json_schema()
    reply = respond(ask("describe Ada", schema=schema), reply_prefix="ignored: ")
    assert reply.text is not None
    person = Person.model_validate_json(reply.text)
    assert person.name == "describe Ada"
    assert person.kind == "human"
    assert person.home.zip_code == 0


def test_structured_final_answer_carries_the_tool_result() -> None:
    items = (
        UserMessage("weather in Paris"),
        ToolCall("c", "get_weather", "{}"),
        ToolResult("c", "Sunny"),
    )
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
    }
    request = BrainRequest(system="", items=items, tools=(WEATHER,), output_schema=schema)
    reply = respond(request, reply_prefix="")
    assert json.loads(reply.text or "") == {"answer": "Result: Sunny"}


def test_schema_values_resolve_refs_and_anyof() -> None:
    schema = {
        "$defs": {"Inner": {"type": "object", "properties": {"x": {"type": ["null", "number"]}}}},
        "type": "object",
        "properties": {"inner": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Inner"}]}},
        "required": ["inner"],
    }
    value = example_value(schema, ValueSource(string="s", numbers=[7.0], all_properties=True))
    assert value == {"inner": {"x": 7}}


def test_conversation_ending_with_assistant_text_does_not_call_tools() -> None:
    items = (UserMessage("weather in Paris"), AssistantMessage("It is sunny."))
    reply = respond(BrainRequest(system="", items=items, tools=(WEATHER,)), reply_prefix="")
    assert reply.tool_calls == ()


def test_markers() -> None:
    marker = find_fault_marker("hi [[fault:429 retry_after=2]]")
    assert marker is not None
    assert (marker.kind, marker.params) == ("429", {"retry_after": "2"})
    assert find_sleep_ms("[[sleep:150]] slow") == 150
    assert strip_markers('a [[fault:hang]] b [[tool:x {"k": {"n": 1}}]]') == "a b"
