"""Request size limit: a body larger than the setting is refused with 413 before it is read
into memory (a patient's FHIR Bundle is far smaller than the default 5 MB)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cervixwatch.web.operation_outcome import IssueCode, operation_outcome


class BodyTooLarge(Exception):
    pass


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        detail = f"request body larger than {self.max_bytes} bytes"
        await refuse_at_the_edge(scope, send, 413, detail, "too-costly")


async def refuse_at_the_edge(
    scope: Scope, send: Send, status: int, detail: str, fhir_code: IssueCode
) -> None:
    """Answer a request a middleware refused before any route ran: an OperationOutcome under
    /fhir, `{"detail": ...}` elsewhere, as the routes' own errors are."""
    body: Any
    if scope.get("path", "").startswith("/fhir"):
        body = operation_outcome(detail, code=fhir_code)
        media = b"application/fhir+json"
    else:
        body = {"detail": detail}
        media = b"application/json"
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
