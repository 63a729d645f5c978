"""Browser-facing hardening: security headers on every answer, CORS only for configured origins,
and the API's documentation (/docs) served from the app's own files under a strict policy.

Why each header is there, and what a new page must respect, is in docs/security-headers.md.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cervixwatch.settings import Settings

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
#: Where a page's form may lead besides this site (`request.state.form_action_origins`): only
#: SMART's consent page sets it, to the origin of the app's registered redirect URI, which the
#: browser is sent back to after the form is posted (browsers apply `form-action` to that
#: redirect too).
FORM_ACTION_STATE: Final = "form_action_origins"
#: Set (`request.state.inline_styles = True`) by the one page that must style itself inline:
#: the population audit's report (a self-contained document whose SVG charts carry style
#: attributes, and which is also written as a file). Scripts stay forbidden there.
INLINE_STYLES_STATE: Final = "inline_styles"
PERMISSIONS_POLICY: Final = "camera=(), microphone=(), geolocation=(), payment=()"
# No includeSubDomains or preload: other hosts of a hospital's domain may still need plain HTTP,
# and that is not ours to decide.
STRICT_TRANSPORT_SECURITY: Final = "max-age=31536000"

#: Headers every answer carries unless its handler set its own.
DEFAULT_HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", PERMISSIONS_POLICY),
    ("Cross-Origin-Opener-Policy", "same-origin"),
)
#: Paths whose answers hold patient data or credentials, so no browser or proxy may keep them.
PRIVATE_PREFIXES: Final = ("/api", "/fhir", "/auth")

CORS_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE")
CORS_HEADERS: Final = ("Authorization", "Content-Type", "X-CSRF-Token")
# A cross-origin client cannot read a response header unless it is exposed: these are the ones
# it needs (where a created resource is, and when to retry after a 429).
CORS_EXPOSED_HEADERS: Final = ("Location", "Retry-After")

DOCS_URL: Final = "/docs"
DOCS_STATIC_URL: Final = "/docs/static"
#: The app's own static files (docs-init.js).
STATIC_DIR: Final = Path(__file__).parent / "static"
# Swagger UI 5 (it renders OpenAPI 3.1, which FastAPI writes; 4.x refuses it), shipped as
# plain files inside a PyPI package so that no page ever loads from a CDN.
SWAGGER_UI_PACKAGE: Final = ("fastapi_offline", "static")


def add_hardening(app: FastAPI, settings: Settings) -> None:
    """Install CORS (when origins are configured) and the security headers. Call it after every
    other `add_middleware`, so that the headers wrap every answer, a CORS preflight or a 413
    included."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=list(CORS_METHODS),
            allow_headers=list(CORS_HEADERS),
            expose_headers=list(CORS_EXPOSED_HEADERS),
            # Cross-origin callers sign requests with bearer tokens; the sign-in cookie stays
            # first-party, so another site can never ride on a clinician's session.
            allow_credentials=False,
        )
    frame_origins = tuple(o for ehr in settings.smart_ehrs for o in ehr.frame_origins)
    app.add_middleware(SecurityHeaders, frame_origins=frame_origins)


class SecurityHeaders:
    """Pure ASGI (not BaseHTTPMiddleware): it touches only the response's start message, so
    streamed bodies pass through untouched and no extra task is spawned per request."""

    def __init__(self, app: ASGIApp, frame_origins: tuple[str, ...] = ()) -> None:
        self.app = app
        #: The EHRs' origins that may show the pages in a frame (SMART launch, issue 14).
        self.frame_origins = frame_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"
        private = _is_private(_app_path(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                state = scope.get("state", {})
                _harden(
                    headers,
                    https=https,
                    private=private,
                    form_action=tuple(state.get(FORM_ACTION_STATE, ())),
                    frame_origins=self.frame_origins,
                    inline_styles=bool(state.get(INLINE_STYLES_STATE, False)),
                )
                message["headers"] = headers.raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


def content_security_policy(
    form_action: tuple[str, ...] = (),
    frame_origins: tuple[str, ...] = (),
    *,
    inline_styles: bool = False,
) -> str:
    """The policy, with `form_action` origins allowed as form targets besides 'self',
    `frame_origins` (configured EHRs) allowed to frame the pages (none else may), and inline
    styles allowed when `inline_styles` (`INLINE_STYLES_STATE`)."""
    policy = CONTENT_SECURITY_POLICY
    if inline_styles:
        policy = policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    if form_action:
        allowed = " ".join(["'self'", *form_action])
        policy = policy.replace("form-action 'self'", f"form-action {allowed}")
    if frame_origins:
        framers = " ".join(["'self'", *frame_origins])
        policy = policy.replace("frame-ancestors 'none'", f"frame-ancestors {framers}")
    return policy


def _harden(
    headers: MutableHeaders,
    *,
    https: bool,
    private: bool,
    form_action: tuple[str, ...] = (),
    frame_origins: tuple[str, ...] = (),
    inline_styles: bool = False,
) -> None:
    # A handler may add a policy of its own (say, a sandbox for a download), but browsers
    # enforce every policy sent, so appending ours means no handler can ever loosen it.
    policy = content_security_policy(form_action, frame_origins, inline_styles=inline_styles)
    if policy not in headers.getlist("content-security-policy"):
        headers.append("Content-Security-Policy", policy)
    for name, value in DEFAULT_HEADERS:
        # X-Frame-Options cannot name origins: with EHRs allowed to frame the pages, the
        # policy's frame-ancestors (which browsers prefer when both are sent) says who may.
        if name == "X-Frame-Options" and frame_origins:
            continue
        headers.setdefault(name, value)
    # Over plain HTTP the header is ignored by browsers, and sending it would wrongly suggest
    # the deployment has TLS.
    if https:
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if private:
        headers.setdefault("Cache-Control", "no-store")


def _app_path(scope: Scope) -> str:
    # Behind a proxy that mounts the app under a prefix, the path may include root_path.
    path: str = scope.get("path", "")
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _is_private(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in PRIVATE_PREFIXES)


def mount_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs with its assets under /docs/static, all from the app itself.

    The app must be made with `FastAPI(docs_url=None, redoc_url=None)`: FastAPI's own pages
    load Swagger UI from a CDN and start it with an inline script, which the policy forbids.
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("create the app with FastAPI(docs_url=None, redoc_url=None)")
    if app.openapi_url is None:
        raise ValueError("/docs needs the OpenAPI document: keep the app's openapi_url")
    openapi_url = app.openapi_url
    title = f"{app.title} API"

    # A plain route, like FastAPI's own /docs and /openapi.json: the documentation is public
    # and must not reach the database.
    async def docs_page(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return HTMLResponse(_docs_html(title, root, f"{root}{openapi_url}"))

    app.add_route(DOCS_URL, docs_page, include_in_schema=False)
    app.mount(
        DOCS_STATIC_URL,
        StaticFiles(directory=STATIC_DIR, packages=[SWAGGER_UI_PACKAGE]),
        name="docs-static",
    )


def _docs_html(title: str, root: str, openapi_url: str) -> str:
    # The OpenAPI URL travels in a data attribute, since the page may hold no script of its own.
    static = html.escape(f"{root}{DOCS_STATIC_URL}", quote=True)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{static}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{html.escape(openapi_url, quote=True)}"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script src="{static}/docs-init.js"></script>
</body>
</html>
"""
