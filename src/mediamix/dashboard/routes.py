"""Serve the dashboard's files under ``/ui`` (no key: they hold no data)."""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

__all__ = ["CONTENT_SECURITY_POLICY", "router"]

# Scripts, styles and requests from this origin only; no inline code, no frames.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


def _asset(name: str) -> bytes:
    return resources.files("mediamix.dashboard").joinpath("static", name).read_bytes()


def _page(body: bytes, kind: str) -> Response:
    return Response(
        body, media_type=kind, headers={"content-security-policy": CONTENT_SECURITY_POLICY}
    )


@router.get("/")
def root() -> RedirectResponse:
    """The dashboard is the service's front page."""
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui")
def ui_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=307)


@router.get("/ui/")
def index() -> Response:
    """The one HTML page; the script routes by the URL's fragment (``#/models``)."""
    return _page(_asset("index.html"), "text/html; charset=utf-8")


@router.get("/ui/assets/{name}")
def asset(name: str) -> Response:
    """A script, style sheet or icon of the dashboard (a fixed list: no path is built
    from the request)."""
    kind = _TYPES.get(name)
    if kind is None:
        return Response(
            b'{"code":"not_found","message":"no such file","problems":[]}',
            status_code=404,
            media_type="application/json",
        )
    return _page(_asset(name), kind)
