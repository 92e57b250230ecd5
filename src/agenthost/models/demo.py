"""The offline demo model: used when no OpenAI key is configured.

It answers with the same deterministic brain as the mock LLM server (tool choice by word
overlap or ``[[tool:NAME]]`` marker, handoffs, structured outputs), without any network.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import ModelResponse, TResponseInputItem, TResponseStreamEvent
from agents.models.interface import Model, ModelTracing
from agents.tool import FunctionTool, Tool
from agents.usage import Usage
from openai.types.responses import Response
from openai.types.responses.response_prompt_param import ResponsePromptParam

from agenthost.testing.mock_llm.brain import respond
from agenthost.testing.mock_llm.conversation import BrainReply, ToolSpec
from agenthost.testing.mock_llm.response_output import build_response, stream_events
from agenthost.testing.mock_llm.responses_input import brain_request_from_responses

if TYPE_CHECKING:
    from agents.model_settings import ModelSettings

DEMO_REPLY_PREFIX = "(offline demo model) "
DEMO_MODEL_NAME = "agenthost-demo"


class DemoModel(Model):
    """A deterministic, offline ``Model`` (see ``agenthost.testing.mock_llm.brain``)."""

    def __init__(
        self, *, reply_prefix: str = DEMO_REPLY_PREFIX, model_name: str = DEMO_MODEL_NAME
    ) -> None:
        self.reply_prefix = reply_prefix
        self.model_name = model_name

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        reply = self._think(system_instructions, input, tools, output_schema, handoffs)
        response = self._response(reply)
        return ModelResponse(
            output=list(response.output),
            usage=Usage(
                requests=1,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                total_tokens=reply.total_tokens,
            ),
            response_id=response.id,
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        reply = self._think(system_instructions, input, tools, output_schema, handoffs)
        for event in stream_events(self._response(reply)):
            yield event

    def _response(self, reply: BrainReply) -> Response:
        response_id = f"resp_{uuid.uuid4().hex}"
        return build_response(
            reply, response_id=response_id, model=self.model_name, created_at=time.time()
        )

    def _think(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff],
    ) -> BrainReply:
        request = brain_request_from_responses(
            system_instructions,
            input,
            [*_function_tool_specs(tools), *_handoff_specs(handoffs)],
            _json_schema(output_schema),
        )
        return respond(request, reply_prefix=self.reply_prefix)


def _function_tool_specs(tools: list[Tool]) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=tool.name,
            description=tool.description,
            parameters=tool.params_json_schema,
            strict=tool.strict_json_schema,
        )
        for tool in tools
        if isinstance(tool, FunctionTool)
    ]


def _handoff_specs(handoffs: list[Handoff]) -> list[ToolSpec]:
    return [
        ToolSpec(
            name=handoff.tool_name,
            description=handoff.tool_description,
            parameters=handoff.input_json_schema,
            strict=handoff.strict_json_schema,
        )
        for handoff in handoffs
    ]


def _json_schema(output_schema: AgentOutputSchemaBase | None) -> dict[str, Any] | None:
    if output_schema is None or output_schema.is_plain_text():
        return None
    return output_schema.json_schema()
