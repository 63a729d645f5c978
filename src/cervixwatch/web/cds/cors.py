"""CORS for the CDS services: only the EHR origins configured (`cds_hooks_origins`), never
`*`, and only under /cds-services; the rest of the app keeps its own policy (`web.hardening`).
Starlette's CORSMiddleware does the work, for the requests under the prefix only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

PREFIX: Final = "/cds-services"
METHODS: Final = ("GET", "POST")
HEADERS: Final = ("Authorization", "Content-Type")


class CdsHooksCors:
    def __init__(self, app: ASGIApp, origins: Sequence[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=list(METHODS),
            allow_headers=list(HEADERS),
            # The EHR signs each call with a JWT in the Authorization header: no cookies.
            allow_credentials=False,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path == PREFIX or path.startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
