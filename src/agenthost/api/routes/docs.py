"""``GET /docs``: the interactive API documentation, with a Content-Security-Policy.

The page is FastAPI's Swagger UI. Its policy is derived from the page itself: scripts only from
the origins it loads them from plus its one inline script (by hash), styles and images from
its own origins, API calls to this server only. No other page is served, so no run input or
output is ever rendered as HTML by agenthost.
"""

from __future__ import annotations

import base64
import hashlib
from html.parser import HTMLParser
from urllib.parse import urlsplit

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response


class _Resources(HTMLParser):
    """Origins of the scripts, styles and images a page loads, and its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.origins: dict[str, set[str]] = {"script": set(), "style": set(), "img": set()}
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = not values.get("src")
            self._add("script", values.get("src"))
        elif tag == "link":
            kind = "style" if values.get("rel") == "stylesheet" else "img"
            self._add(kind, values.get("href"))
        elif tag == "img":
            self._add("img", values.get("src"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline_scripts.append(data)

    def _add(self, kind: str, url: str | None) -> None:
        if url:
            parts = urlsplit(url)
            self.origins[kind].add(f"{parts.scheme}://{parts.netloc}" if parts.netloc else "'self'")


def page_policy(page: str) -> str:
    """A Content-Security-Policy that allows exactly what ``page`` loads and runs."""
    found = _Resources()
    found.feed(page)
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in found.inline_scripts
    ]
    script = " ".join(sorted(found.origins["script"]) + hashes)
    style = " ".join([*sorted(found.origins["style"]), "'unsafe-inline'"])
    img = " ".join(sorted(found.origins["img"] | {"'self'", "data:"}))
    return (
        f"default-src 'none'; script-src {script}; style-src {style}; img-src {img}; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def docs_router(title: str, openapi_url: str) -> APIRouter:
    """The ``/docs`` route, its page and policy built once."""
    page = bytes(get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - docs").body)
    headers = {"Content-Security-Policy": page_policy(page.decode())}
    router = APIRouter()

    @router.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return HTMLResponse(page, headers=headers)

    return router
