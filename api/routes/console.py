"""The web console: ``GET /`` serves its page, ``GET /console/<file>`` its scripts and styles.

The files hold no data, so they are served without a key (the edge guard lets
exactly these paths through); everything the console shows comes from the
authenticated JSON routes, called by the browser with the key the user pasted.
Only flat file names of the static folder are served (no sub-folder, no ``..``),
with a Content-Security-Policy that allows scripts, styles and requests to this
origin only: no inline script, no plug-in, no framing.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from kernel.errors import NotFoundError

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
ASSET_PREFIX = "/console/"
# A flat name with one of the served extensions; the edge guard matches the same shape.
ASSET_NAME = re.compile(r"^[a-z][a-z0-9-]{0,63}\.(js|css)$")
_MEDIA_TYPES = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # A new deploy's files are picked up at once; they are small.
    "Cache-Control": "no-cache",
}


def is_asset_path(path: str) -> bool:
    """True for a path this router serves as a static asset (the edge guard asks)."""
    return path.startswith(ASSET_PREFIX) and bool(ASSET_NAME.match(path[len(ASSET_PREFIX) :]))


@router.get("/", response_class=HTMLResponse)
def console_page() -> Response:
    return FileResponse(
        STATIC_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS
    )


@router.get(ASSET_PREFIX + "{name}")
def console_asset(name: str) -> Response:
    match = ASSET_NAME.match(name)
    path = STATIC_DIR / name
    if match is None or not path.is_file():
        raise NotFoundError(f"no console file '{name}'")
    return FileResponse(path, media_type=_MEDIA_TYPES[match.group(1)], headers=_HEADERS)
