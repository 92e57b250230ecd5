"""A streamed Chat Completion: server-sent events read off the response, one chunk each.

:class:`ChunkStream` stands where the openai client's ``AsyncStream[ChatCompletionChunk]``
stands: the SDK's stream handler iterates it, reads ``response.headers`` for the request id
and closes it with ``aclose()``. Transport failures, error events and malformed chunks raise
what the openai client raises. A stream closed before its end (a cancelled call) closes its
connection; one read to the end gives it back to the pool.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import openai
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError

from agenthost.models.lean_errors import (
    TRANSPORT_ERRORS,
    invalid_response,
    stream_error,
    transport_error,
)

DRAIN_TIMEOUT_S = 1.0
"""After ``[DONE]``, how long the rest of the body may take to arrive (so the connection can
be reused) before the response is closed instead."""


def chunk_from_json(data: Any, response: aiohttp.ClientResponse) -> ChatCompletionChunk:
    """A ``ChatCompletionChunk`` from one decoded event of ``response``."""
    if not isinstance(data, dict):
        message = "model service streamed an event that is not a JSON object"
        raise invalid_response(response, b"", data, message)
    try:
        return ChatCompletionChunk.model_validate(data)
    except ValidationError:
        return ChatCompletionChunk.construct(**data)


class ChunkStream:
    """The chunks of one streamed completion; the response is closed when they end."""

    def __init__(self, response: aiohttp.ClientResponse, url: str) -> None:
        self.response = response
        self._url = url
        self._chunks = self._iterate()

    def __aiter__(self) -> AsyncIterator[ChatCompletionChunk]:
        return self._chunks

    async def __anext__(self) -> ChatCompletionChunk:
        return await self._chunks.__anext__()

    async def aclose(self) -> None:
        await self._chunks.aclose()
        self._finish()

    def _finish(self) -> None:
        """Give the connection back if the body was read to its end, else close it."""
        if self.response.content.at_eof():
            self.response.release()
        else:
            self.response.close()

    async def _iterate(self) -> AsyncGenerator[ChatCompletionChunk, None]:
        events = self._events()
        try:
            async for data in events:
                if data.startswith("[DONE]"):
                    await self._drain(events)
                    return
                payload = json.loads(data)
                error = stream_error(payload, self._url)
                if error is not None:
                    raise error
                yield chunk_from_json(payload, self.response)
        finally:
            await events.aclose()
            self._finish()

    async def _events(self) -> AsyncGenerator[str, None]:
        """The ``data`` of each event (lines joined), in order."""
        buffer = b""
        data: list[str] = []
        try:
            async for raw in self.response.content.iter_any():
                buffer += raw
                *lines, buffer = buffer.split(b"\n")
                for raw_line in lines:
                    line = raw_line.removesuffix(b"\r")
                    if not line:
                        if data:
                            yield "\n".join(data)
                            data = []
                    elif line.startswith(b"data:"):
                        value = line[5:]
                        data.append((value[1:] if value.startswith(b" ") else value).decode())
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self._url) from exc
        if data:
            yield "\n".join(data)

    @staticmethod
    async def _drain(events: AsyncGenerator[str, None]) -> None:
        """Read what follows ``[DONE]`` so the connection goes back to the pool."""
        try:
            async with asyncio.timeout(DRAIN_TIMEOUT_S):
                async for _ in events:
                    pass
        except (TimeoutError, openai.APIError):
            pass
