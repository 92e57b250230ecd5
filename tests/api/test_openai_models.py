"""``GET /v1/models`` and the errors of the OpenAI-compatible routes (401, 403, 429), with the
official ``openai`` client."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from agenthost.testing.mock_llm.server import MockLLMServer
from tests.api.openai_host import Host, hosting
from tests.api.tenants import add_key, run_rows

USER = [{"role": "user", "content": "What is the weather in Paris?"}]


@pytest.fixture
def host(agenthost_client: Any) -> Host:
    return hosting(agenthost_client)


async def test_models_are_the_agents_the_tenant_may_use(host: Host) -> None:
    async with host({"allowed_agents": ["weather", "ticket"]}) as hosted:
        models = await hosted.client.models.list()
        one = await hosted.client.models.retrieve("weather")
        with pytest.raises(openai.NotFoundError) as hidden:
            await hosted.client.models.retrieve("agent:triage")
        with pytest.raises(openai.PermissionDeniedError):
            await hosted.client.chat.completions.create(model="agent:triage", messages=USER)
    assert [model.id for model in models.data] == ["agent:weather", "agent:ticket"]
    assert {(m.object, m.owned_by) for m in models.data} == {("model", "agenthost")}
    assert one.id == "agent:weather"
    assert hidden.value.code == "model_not_found"


async def test_a_bad_key_is_openais_authentication_error(host: Host) -> None:
    async with host() as hosted, hosted.openai("ahk_not_a_key") as stranger:
        with pytest.raises(openai.AuthenticationError) as caught:
            await stranger.responses.create(model="weather", input="hi")
        with pytest.raises(openai.AuthenticationError):
            await stranger.models.list()
    response = caught.value.response
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert caught.value.body == {
        "message": caught.value.body["message"],  # type: ignore[index]
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }


async def test_scopes_runs_write_to_run_and_runs_read_to_list(host: Host) -> None:
    async with host() as hosted:
        reader = await add_key(hosted.app, "acme", "runs:read")
        writer = await add_key(hosted.app, "acme", "runs:write")
        async with hosted.openai(reader.plaintext) as read_only:
            assert (await read_only.models.list()).data
            with pytest.raises(openai.PermissionDeniedError):
                await read_only.chat.completions.create(model="weather", messages=USER)
        async with hosted.openai(writer.plaintext) as write_only:
            with pytest.raises(openai.PermissionDeniedError) as caught:
                await write_only.models.list()
            assert (await write_only.responses.create(model="weather", input="hi")).id
    assert caught.value.code == "forbidden"


async def test_the_monthly_quota_is_openais_rate_limit_error(
    host: Host, mock_llm: MockLLMServer
) -> None:
    async with host({"runs_per_month": 1}) as hosted:
        await hosted.client.chat.completions.create(model="weather", messages=USER)
        with pytest.raises(openai.RateLimitError) as chat:
            await hosted.client.chat.completions.create(model="weather", messages=USER, stream=True)
        with pytest.raises(openai.RateLimitError) as responses:
            await hosted.client.responses.create(model="weather", input="hi")
        records = await run_rows(hosted.app, "acme")
    for refused in (chat.value, responses.value):
        assert refused.code == "insufficient_quota" and refused.type == "insufficient_quota"
        assert int(refused.response.headers["retry-after"]) > 0
    assert len(records) == 1 and mock_llm.stats()["total_requests"] == 2


async def test_the_rate_limit_is_openais_rate_limit_error(host: Host) -> None:
    async with host(rate_limit_per_key="1/minute") as hosted:
        await hosted.client.models.list()
        with pytest.raises(openai.RateLimitError) as caught:
            await hosted.client.models.list()
    assert caught.value.code == "rate_limit_exceeded"
    assert int(caught.value.response.headers["retry-after"]) > 0


async def test_errors_from_the_middleware_are_in_openais_shape_too(host: Host) -> None:
    big = [{"role": "user", "content": "x" * 5000}]
    async with host(max_body_bytes=4096) as hosted:
        with pytest.raises(openai.APIStatusError) as too_large:
            await hosted.client.chat.completions.create(model="weather", messages=big)
        no_route = await hosted.http.get("/v1/models/a/b", headers=hosted.key.headers)
        elsewhere = await hosted.http.get("/v1/runs/run_x", headers=hosted.key.headers)
    assert too_large.value.status_code == 413
    assert too_large.value.code == "payload_too_large"
    assert no_route.status_code == 404 and no_route.json()["error"]["code"] == "not_found"
    # Only the OpenAI-compatible routes: the others keep their problem documents.
    assert elsewhere.headers["content-type"] == "application/problem+json"
    assert elsewhere.json()["code"] == "RUN_NOT_FOUND"
