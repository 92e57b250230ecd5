"""The lean Chat Completions model: the SDK's model over :class:`LeanChatClient`.

The SDK's :class:`~agents.models.openai_chatcompletions.OpenAIChatCompletionsModel` does the
model's work (converting items, tools, handoffs and the output schema into the request;
turning the answer, its usage and refusals into output items; the stream handler; the
generation span with the same data) and calls ``client.chat.completions.create``, reading the
client's ``base_url`` and nothing else. Handing it the lean client instead of ``AsyncOpenAI``
keeps every one of those behaviours and drops the openai client's per-request cost.
"""

from __future__ import annotations

from typing import cast

from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from openai import AsyncOpenAI

from agenthost.models.lean_client import LeanChatClient


class LeanChatCompletionsModel(OpenAIChatCompletionsModel):
    """A Chat Completions model whose requests go through ``client`` (raw JSON, pooled)."""

    def __init__(self, model: str, client: LeanChatClient) -> None:
        # The SDK types the client as AsyncOpenAI; it uses the part LeanChatClient provides.
        super().__init__(model=model, openai_client=cast(AsyncOpenAI, client))
        self.lean_client = client
