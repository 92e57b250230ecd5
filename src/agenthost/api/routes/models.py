"""``GET /v1/models``: the agents a key may run, as OpenAI's model list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from agenthost.api.deps import ContainerDep, RunsReader
from agenthost.api.schemas.openai import (
    AGENT_MODEL_PREFIX,
    ModelList,
    ModelOut,
    agent_of,
    openai_error_responses,
)
from agenthost.errors import AgentNotFound

router = APIRouter(prefix="/v1", tags=["openai"])

ModelId = Annotated[str, Path(max_length=128, description="`agent:<name>` or `<name>`.")]


def _model(name: str) -> ModelOut:
    return ModelOut(id=f"{AGENT_MODEL_PREFIX}{name}", created=0, owned_by="agenthost")


@router.get("/models", response_model=ModelList, responses=openai_error_responses(401, 403, 429))
async def list_models(container: ContainerDep, principal: RunsReader) -> ModelList:
    """The agents the caller's tenant may run, as models (needs `runs:read`)."""
    tenant = principal.tenant
    return ModelList(
        data=[_model(entry.name) for entry in container.registry if tenant.may_use(entry.name)]
    )


@router.get(
    "/models/{model}",
    response_model=ModelOut,
    responses=openai_error_responses(401, 403, 404, 429),
)
async def get_model(model: ModelId, container: ContainerDep, principal: RunsReader) -> ModelOut:
    """One agent the caller's tenant may run, as a model (needs `runs:read`)."""
    name = agent_of(model)
    if name not in container.registry or not principal.tenant.may_use(name):
        raise AgentNotFound(f"The model '{model}' does not exist or you do not have access to it.")
    return _model(name)
