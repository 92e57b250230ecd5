from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from agenthost.api.middleware import SecurityHeadersMiddleware

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
    "cache-control": "no-store",
}


async def _plain(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def _custom(request: Request) -> JSONResponse:
    return JSONResponse(
        {}, headers={"Cache-Control": "public, max-age=60", "X-Frame-Options": "SAMEORIGIN"}
    )


async def _docs(request: Request) -> HTMLResponse:
    return HTMLResponse("<html></html>")


async def _own_csp(request: Request) -> HTMLResponse:
    return HTMLResponse("<html></html>", headers={"Content-Security-Policy": "script-src 'self'"})


def _app() -> SecurityHeadersMiddleware:
    routes = [
        Route("/v1/agents", _plain),
        Route("/custom", _custom),
        Route("/docs", _docs),
        Route("/openapi.json", _plain),
        Route("/own-csp", _own_csp),
    ]
    return SecurityHeadersMiddleware(Starlette(routes=routes))


async def test_all_headers_present_on_http(make_client) -> None:
    response = await make_client(_app()).get("/v1/agents")
    for name, value in EXPECTED.items():
        assert response.headers.get_list(name) == [value], name
    assert "strict-transport-security" not in response.headers


async def test_hsts_only_over_https(make_client) -> None:
    response = await make_client(_app(), base_url="https://test").get("/v1/agents")
    assert response.headers["strict-transport-security"].startswith("max-age=")


async def test_headers_also_on_404(make_client) -> None:
    response = await make_client(_app()).get("/nowhere")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_app_set_headers_are_kept(make_client) -> None:
    response = await make_client(_app()).get("/custom")
    assert response.headers.get_list("cache-control") == ["public, max-age=60"]
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_every_page_has_a_csp_unless_it_sets_its_own(make_client) -> None:
    client = make_client(_app())
    for path in ("/docs", "/openapi.json", "/v1/agents"):
        response = await client.get(path)
        assert response.headers["content-security-policy"] == EXPECTED["content-security-policy"]
    own = await client.get("/own-csp")
    assert own.headers.get_list("content-security-policy") == ["script-src 'self'"]
