"""A lean Chat Completions client: the request as JSON over a pooled ``aiohttp`` session.

It answers the one call the SDK's :class:`~agents.models.openai_chatcompletions.
OpenAIChatCompletionsModel` makes, ``client.chat.completions.create(**params)``, with the
same request body and the same result types as ``AsyncOpenAI``, but without the openai
client's per-request machinery (parameter transformation, request options, retries,
recursive construction of the result): parameters go to JSON as they are, results are
validated by pydantic's compiled validators (falling back to openai's lenient construction
for payloads the types do not describe, as the openai client accepts those too). Errors are
the openai exception types (see :mod:`agenthost.models.lean_errors`). The connections are a
:class:`~agenthost.models.lean_http.HttpPool`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
import httpx2
from multidict import CIMultiDict
from openai import NotGiven, Omit
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from agenthost.models.lean_errors import (
    TIMEOUTS,
    TRANSPORT_ERRORS,
    http_response,
    invalid_response,
    status_error,
    transport_error,
)
from agenthost.models.lean_http import HttpPool, env_proxy, request_timeout
from agenthost.models.lean_stream import ChunkStream

DEFAULT_BASE_URL = "https://api.openai.com/v1"
"""Where requests go when a deployment names no ``base_url`` (the openai client's default)."""

BODY_FIELDS = frozenset(
    {
        "model", "stream", "service_tier", "messages", "audio", "frequency_penalty",
        "function_call", "functions", "logit_bias", "logprobs", "max_completion_tokens",
        "max_tokens", "metadata", "modalities", "moderation", "n", "parallel_tool_calls",
        "prediction", "presence_penalty", "prompt_cache_key", "prompt_cache_options",
        "prompt_cache_retention", "reasoning_effort", "response_format", "safety_identifier",
        "seed", "stop", "store", "stream_options", "temperature", "tool_choice", "tools",
        "top_logprobs", "top_p", "user", "verbosity", "web_search_options",
    }
)  # fmt: skip
"""The body fields ``AsyncOpenAI().chat.completions.create`` accepts (openai 3.57)."""
_OPTIONS = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})


def _given(value: object) -> bool:
    return not isinstance(value, Omit | NotGiven)


def _json_default(value: object) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def request_body(params: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body the openai client sends for ``create(**params)``: given fields, then
    ``extra_body`` on top. Unknown keywords are refused as the openai client refuses them."""
    unknown = sorted(key for key in params if key not in BODY_FIELDS and key not in _OPTIONS)
    if unknown:
        raise TypeError(f"create() got an unexpected keyword argument {unknown[0]!r}")
    body = {k: v for k, v in params.items() if k in BODY_FIELDS and _given(v)}
    extra = params.get("extra_body")
    if isinstance(extra, Mapping):
        body.update(extra)
    return body


def completion_from_json(
    data: Any, response: aiohttp.ClientResponse, content: bytes
) -> ChatCompletion:
    """A ``ChatCompletion`` from the decoded body (``content``) of ``response``."""
    if not isinstance(data, dict):
        message = "model service sent a response that is not a JSON object"
        raise invalid_response(response, content, data, message)
    try:
        return ChatCompletion.model_validate(data)
    except ValidationError:
        return ChatCompletion.construct(**data)


class _Completions:
    def __init__(self, create: Callable[..., Awaitable[ChatCompletion | ChunkStream]]) -> None:
        self.create = create


class _Chat:
    def __init__(self, completions: _Completions) -> None:
        self.completions = completions


class LeanChatClient:
    """``AsyncOpenAI``'s ``base_url`` and ``chat.completions.create``, and nothing else.

    ``api_key`` is awaited before every request, so a rotated key applies at once.
    """

    def __init__(
        self,
        pool: HttpPool,
        api_key: Callable[[], Awaitable[str]],
        base_url: str | None = None,
    ) -> None:
        root = base_url or DEFAULT_BASE_URL
        # Same normalisation as the openai client: spans and converters see the same URL.
        self.base_url = httpx2.URL(root if root.endswith("/") else root + "/")
        self._url = str(self.base_url) + "chat/completions"
        self._proxy, self._proxy_auth = env_proxy(self._url)
        self.pool = pool
        self._api_key = api_key
        self.chat = _Chat(_Completions(self.create))

    async def create(self, **params: Any) -> ChatCompletion | ChunkStream:
        """POST ``/chat/completions``; a ``ChatCompletion``, or a chunk stream for ``stream``."""
        content = json.dumps(
            request_body(params), ensure_ascii=False, separators=(",", ":"), default=_json_default
        ).encode()
        headers = await self._headers(params.get("extra_headers"))
        options: dict[str, Any] = {}
        if "timeout" in params and _given(params["timeout"]):
            options["timeout"] = request_timeout(params["timeout"])
        query = params.get("extra_query")
        if query:
            options["params"] = query
        try:
            response = await self.pool.session.post(
                self._url,
                data=content,
                headers=headers,
                allow_redirects=False,
                proxy=self._proxy,
                proxy_auth=self._proxy_auth,
                **options,
            )
        except TRANSPORT_ERRORS as exc:
            raise transport_error(exc, self._url) from exc
        if params.get("stream") is True and response.status < 400:
            return ChunkStream(response, self._url)
        body = await self._read(response)
        if response.status >= 400:
            raise status_error(http_response(response, body)) from None
        completion = completion_from_json(json.loads(body), response, body)
        completion._request_id = response.headers.get("x-request-id")
        return completion

    async def _headers(self, extra: Mapping[str, Any] | None) -> CIMultiDict[str]:
        headers = CIMultiDict(
            {
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": f"Bearer {await self._api_key()}",
            }
        )
        for name, value in (extra or {}).items():
            if _given(value):
                headers[name] = value
            else:
                headers.popall(name, None)
        return headers

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The whole body; the connection goes back to the pool, or is closed if reading
        fails or is cancelled."""
        try:
            body = await response.read()
        except BaseException as exc:
            response.close()
            if isinstance(exc, TIMEOUTS + TRANSPORT_ERRORS):
                raise transport_error(exc, self._url) from exc
            raise
        response.release()
        return body

    async def close(self) -> None:
        """Close the connection pool (the provider does, on shutdown)."""
        await self.pool.close()
