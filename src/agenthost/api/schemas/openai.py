"""Shapes shared by the OpenAI-compatible routes: the error body, the model list, metadata,
and the fields a client may send but the agent owns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from agenthost.api.schemas.problem import problem_responses
from agenthost.api.schemas.runs import MAX_METADATA_ITEMS, MetadataKey, MetadataValue

AGENT_MODEL_PREFIX = "agent:"
"""``model`` names an agent as ``agent:<name>`` (or by its bare name)."""

ModelName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Metadata = Annotated[
    dict[MetadataKey, MetadataValue],
    Field(
        max_length=MAX_METADATA_ITEMS,
        description=f"Up to {MAX_METADATA_ITEMS} string pairs, stored with the run.",
    ),
]
T = TypeVar("T")
IGNORED = "Accepted and ignored: the agent's own model settings apply."
_DESCRIPTIONS: Mapping[int | str, str] = MappingProxyType(
    {
        400: "The body is not JSON, or a parameter is invalid, unknown or refused",
        422: "A guardrail, the agent's maximum turns or the tenant's token limit stopped the run",
    }
)


def agent_of(model: str) -> str:
    """The agent a ``model`` names: ``agent:weather`` and ``weather`` both name ``weather``."""
    return model.removeprefix(AGENT_MODEL_PREFIX)


def refuse_unless_empty(reason: str) -> Callable[[Any], Any]:
    """A before-validator refusing, with ``reason``, any value but null or ``[]``."""

    def check(value: Any) -> Any:
        if value not in (None, []):
            raise PydanticCustomError("unsupported_parameter", reason)
        return value

    return check


TOOLS_REFUSED = "the agent owns its tools (client-side tools are not supported)"
NoTools = Annotated[
    Annotated[list[Any], Field(max_length=0)] | None,
    BeforeValidator(refuse_unless_empty(TOOLS_REFUSED)),
    Field(description=f"Refused unless empty or null: {TOOLS_REFUSED}."),
]
"""``tools``: accepted only empty (the Agents SDK sends ``tools: []``)."""

INSTRUCTIONS_REFUSED = "the agent owns its instructions (put the context in a user message instead)"
NoInstructions = Annotated[
    None,
    BeforeValidator(refuse_unless_empty(INSTRUCTIONS_REFUSED)),
    Field(description=f"Refused unless null: {INSTRUCTIONS_REFUSED}."),
]
ToolChoice = Annotated[
    Literal["auto"] | None,
    Field(description="Only `auto` (what the agent does anyway); anything else is refused."),
]
Ignored = Annotated[T, Field(description=IGNORED)]

ROLES_REFUSED = (
    "system and developer messages are refused: the agent owns its instructions (put the "
    "context in a user message instead)"
)


def _refuse_instruction_roles(value: Any) -> Any:
    """A clear refusal for system and developer messages (not "not one of user, assistant")."""
    if value in ("system", "developer"):
        raise PydanticCustomError("unsupported_value", ROLES_REFUSED)
    return value


Role = Annotated[
    Literal["user", "assistant"],
    BeforeValidator(_refuse_instruction_roles),
    Field(description=f"`user` or `assistant`; {ROLES_REFUSED}."),
]


class TextFormat(BaseModel):
    """Responses' ``text.format`` and Chat's ``response_format``: only plain text."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["text"] = Field(
        description="Only `text`: an agent with a structured output answers its JSON as text."
    )


class OpenAIError(BaseModel):
    message: str
    type: str = Field(
        description="`invalid_request_error`, `insufficient_quota`, `requests`, or `server_error`."
    )
    param: str | None = Field(description="The invalid parameter, e.g. `messages[0].role`.")
    code: str | None = Field(
        description="e.g. `model_not_found`, `invalid_api_key`, "
        "`insufficient_quota`, `rate_limit_exceeded`, or agenthost's code."
    )


class OpenAIErrorBody(BaseModel):
    """An error, in OpenAI's shape."""

    error: OpenAIError


def openai_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these statuses, each an OpenAI error body."""
    schema = {"schema": {"$ref": "#/components/schemas/OpenAIErrorBody"}}
    return {
        status: {
            "description": _DESCRIPTIONS.get(status, entry["description"]),
            "model": OpenAIErrorBody,
            "content": {"application/json": dict(schema)},
        }
        for status, entry in problem_responses(*statuses).items()
    }


class ModelOut(BaseModel):
    id: str = Field(description="`agent:<name>`: what `model` takes.")
    object: Literal["model"] = "model"
    created: int = Field(description="Always 0: agents have no creation time.")
    owned_by: str = Field(description="`agenthost`.")


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]
