"""What a user would otherwise write (the guide's pattern), and a bare FastAPI endpoint.

    MOCK_BASE_URL=http://127.0.0.1:8100/v1 uvicorn benchmarks.guide_server:app

``POST /run`` runs the agent with ``Runner.run`` on ``OpenAIChatCompletionsModel(AsyncOpenAI)``
built once at import (as the guide does); ``POST /json`` answers JSON without any work. The
SDK's tracing is off (it would try to export to OpenAI), which favours this server.
"""

from __future__ import annotations

import os

from agents import Agent, OpenAIChatCompletionsModel, Runner, set_tracing_disabled
from fastapi import FastAPI
from openai import AsyncOpenAI
from pydantic import BaseModel

from benchmarks.bench_agents import INSTRUCTIONS, MODEL

set_tracing_disabled(True)
client = AsyncOpenAI(base_url=os.environ["MOCK_BASE_URL"], api_key="unused", max_retries=0)
agent = Agent(
    name="bench", instructions=INSTRUCTIONS, model=OpenAIChatCompletionsModel(MODEL, client)
)
app = FastAPI()


class RunBody(BaseModel):
    input: str


@app.post("/run")
async def run(body: RunBody) -> dict[str, object]:
    result = await Runner.run(agent, body.input)
    return {"output": result.final_output}


@app.post("/json")
async def bare(body: RunBody) -> dict[str, object]:
    return {"output": body.input}
