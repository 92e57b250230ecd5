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


def _app() -> SecurityHeadersMiddleware:
    routes = [
        Route("/v1/agents", _plain),
        Route("/custom", _custom),
        Route("/docs", _docs),
        Route("/docs/oauth2-redirect", _docs),
        Route("/redoc", _docs),
        Route("/openapi.json", _plain),
        Route("/docsy", _plain),
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


async def test_docs_pages_have_no_csp(make_client) -> None:
    client = make_client(_app())
    for path in ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"):
        response = await client.get(path)
        assert "content-security-policy" not in response.headers, path
        assert response.headers["x-content-type-options"] == "nosniff"
    # A path that merely starts with the same letters is not a docs path.
    assert "content-security-policy" in (await client.get("/docsy")).headers
