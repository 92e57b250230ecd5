"""The web console: static pages at ``/console`` that use only the public JSON API.

The files in ``static/`` are plain HTML, CSS and ES-module JavaScript (no build step), read
once when the router is built and served from memory. They are public (no key is needed to
load them); every call they make to the API carries the key the user signed in with, from
``sessionStorage``. Their Content-Security-Policy is set by the security headers middleware
(:data:`~agenthost.api.middleware.security_headers.CONSOLE_POLICY`).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

from fastapi import APIRouter
from starlette.responses import Response

from agenthost.errors import RouteNotFound

PREFIX = "/console"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}


def is_console_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _files(folder: Traversable, under: str = "") -> dict[str, tuple[bytes, str]]:
    """Every file below ``folder`` by its path relative to it, with its media type."""
    found: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        name = f"{under}{item.name}"
        if item.is_dir():
            found.update(_files(item, f"{name}/"))
            continue
        suffix = name[name.rfind(".") :]
        if suffix not in MEDIA_TYPES:
            raise RuntimeError(f"console file {name!r} has no known media type")
        found[name] = (item.read_bytes(), MEDIA_TYPES[suffix])
    return found


def console_router() -> APIRouter:
    """``GET /console`` (the page) and ``GET /console/static/{path}`` (its files)."""
    files = _files(resources.files(__package__).joinpath("static"))
    page, _ = files["index.html"]
    router = APIRouter(include_in_schema=False)

    @router.get(PREFIX)
    @router.get(PREFIX + "/")
    async def console() -> Response:
        return Response(page, media_type=MEDIA_TYPES[".html"])

    @router.get(PREFIX + "/static/{path:path}")
    async def static(path: str) -> Response:
        found = files.get(path)
        if found is None:
            raise RouteNotFound(f"no console file {path!r}")
        body, media_type = found
        return Response(body, media_type=media_type)

    return router
