"""Recording every access to patient data in the audit log (a pure ASGI middleware).

`web.access.enforce` notes who asked, about which woman and for what (`AccessRecord`); a
route may add the woman it turned out to be about (a registration, an import). When the
response starts, and before the client sees it, this middleware appends one audit entry in a
transaction of its own, with the response's status: one entry per access, refused accesses
included. Requests that touch no patient data (the CapabilityStatement, the API's
documentation, reading one's own account) are not recorded.

A route that writes may instead append its entry in its own transaction (`entry_for`, then
`recorded_by_route`): the write and its entry then stand or fall together, in one commit
instead of two. The middleware then writes none; should the answer's status turn out other
than the one recorded (the response failed after the commit), it logs that, by request id.

Every response carries an `X-Request-ID`, the id its audit entry (and any log line) has.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from typing import Any

import anyio
import orjson
from sqlalchemy import Engine
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cervixwatch.app.audit_log import AuditEntry, outcome_of, record
from cervixwatch.app.operations import database_unavailable
from cervixwatch.app.rows import AuditOutcome
from cervixwatch.web.access import AccessRecord
from cervixwatch.web.logs import scrubbed_traceback, set_logged_path
from cervixwatch.web.operation_outcome import operation_outcome
from cervixwatch.web.unavailable import answer_unavailable

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = b"x-request-id"


def _route_template(path: str, params: dict[str, Any]) -> str:
    """The path with each path parameter's value named instead (`/api/patients/{patient_id}`)."""
    parts = path.split("/")
    names = {str(v): k for k, v in params.items()}
    return "/".join(f"{{{names[p]}}}" if p in names else p for p in parts)


def _ids_only(path: str, params: dict[str, Any]) -> str:
    """The path as recorded: the values of id parameters kept, any other parameter (a
    username, a team's name) replaced by its name, since logs carry ids, never names."""
    parts = path.split("/")
    hidden = {str(v): k for k, v in params.items() if not _is_id(k)}
    return "/".join(f"{{{hidden[p]}}}" if p in hidden else p for p in parts)


def _is_id(name: str) -> bool:
    return name.endswith("_id") or name in ("resource_type", "path")


_RECORDED_BY_ROUTE = "audit_recorded_by_route"


def _entry(
    scope: Scope,
    state: dict[str, Any],
    request_id: str,
    status: int,
    outcome: AuditOutcome | None = None,
) -> AuditEntry | None:
    """The request's audit entry with `status`; None if it touches no patient data.
    `outcome`: how it ended when the status does not say (a stream that failed after its
    200); a page that answered a refusal by redirecting names it (`AccessRecord.refused`)."""
    access: AccessRecord | None = state.get("access")
    if access is None or access.action is None:
        return None
    if outcome is None and access.refused is not None:
        outcome = outcome_of(access.refused, access.patient_id)
    principal = access.principal
    client = scope.get("client")
    return AuditEntry(
        action=access.action,
        method=scope["method"],
        route=_route_template(scope["path"], scope.get("path_params", {})),
        path=_ids_only(scope["path"], scope.get("path_params", {})),
        status=status,
        request_id=request_id,
        actor_id=principal.user_id if principal else None,
        actor_role=principal.role.value if principal else None,
        via=principal.via if principal else None,
        patient_id=access.patient_id,
        client_address=client[0] if client else None,
        outcome=outcome,
        target_user_id=access.target_user_id,
    )


def entry_for(request: Request, status: int) -> AuditEntry | None:
    """This request's audit entry as it will be answered (`status`), for the route to append
    in its own transaction (`store.audit.append`); then call `recorded_by_route`."""
    state = request.scope.get("state", {})
    return _entry(request.scope, state, state.get("request_id", ""), status)


def recorded_by_route(request: Request, status: int) -> None:
    """The route's transaction, holding this request's audit entry with `status`, has
    committed: the middleware writes no other."""
    request.scope.setdefault("state", {})[_RECORDED_BY_ROUTE] = status


class AuditLog:
    """Writes each request's entry as its answer starts; a streamed answer's (no
    Content-Length) when its last part is handed over, so that an export that fails part-way
    is recorded as failed, not as the success its 200 began as. An exception no handler
    answered becomes a 500 here, recorded (outcome failed) and logged with its frames and
    type only (`web.logs`): nothing is left for the server to log with the exception's
    message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(uuid.uuid4())
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        sent: int | None = None  # the status, once the answer has started
        held = False  # a streamed answer's entry, written when it ends

        async def send_and_record(message: Message) -> None:
            nonlocal sent, held
            if message["type"] == "http.response.start" and sent is None:
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message = {**message, "headers": headers}
                status = int(message["status"])
                # Uvicorn writes the access line as the answer starts, in this task.
                set_logged_path(_ids_only(scope["path"], scope.get("path_params", {})))
                if _streamed(headers):
                    held = True
                else:
                    # Should the entry fail to be written, nothing has been sent yet.
                    await self._settle(scope, state, request_id, status)
                sent = status
            elif (
                message["type"] == "http.response.body"
                and held
                and not message.get("more_body", False)
            ):
                held = False
                assert sent is not None
                await self._settle(scope, state, request_id, sent)
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        except Exception as error:
            if database_unavailable(error) and sent is None:
                # Not a fault of the request: 503 with Retry-After, in the caller's form.
                await self._unavailable(scope, state, request_id, send, error)
                return
            log.error(
                "request %s: %s %s failed\n%s",
                request_id,
                scope["method"],
                _ids_only(scope["path"], scope.get("path_params", {})),
                scrubbed_traceback(error),
            )
            if sent is None:
                try:
                    await self._settle(scope, state, request_id, 500)
                finally:
                    # Answered even when the entry itself could not be written: that
                    # failure is logged, and raised on for the server to see.
                    await _answer_500(send, request_id, fhir=_is_fhir(scope))
            elif held:
                held = False
                await self._settle(scope, state, request_id, sent, AuditOutcome.FAILED)
            # Not raised again: it is answered (or the broken stream ends here, and the
            # client sees it cut short) and logged without its message.
            return
        if held:  # the stream stopped before its end: the client went away
            assert sent is not None
            await self._settle(scope, state, request_id, sent, AuditOutcome.FAILED)

    async def _unavailable(
        self,
        scope: Scope,
        state: dict[str, Any],
        request_id: str,
        send: Send,
        error: Exception,
    ) -> None:
        """The database cannot be reached (`app.operations.database_unavailable`): logged in
        one line (the failure's type, never its message), recorded if the entry can still be
        written (it seldom can: `_record` logs that it was lost), answered 503."""
        log.warning(
            "request %s: %s %s: the database cannot be reached (%s); answered 503",
            request_id,
            scope["method"],
            _ids_only(scope["path"], scope.get("path_params", {})),
            type(error).__name__,
        )
        # A lost entry is logged by `_record`; the 503 holds no data, so it is sent anyway.
        with contextlib.suppress(Exception):
            await self._settle(scope, state, request_id, 503)
        await answer_unavailable(send, scope, request_id)

    async def _settle(
        self,
        scope: Scope,
        state: dict[str, Any],
        request_id: str,
        status: int,
        outcome: AuditOutcome | None = None,
    ) -> None:
        """Write the request's entry, unless its route wrote it in its own transaction."""
        by_route = state.get(_RECORDED_BY_ROUTE)
        if by_route is None:
            await self._record(scope, state, request_id, status, outcome)
        elif by_route != status or outcome is not None:
            log.warning(
                "request %s: audit entry written as %s, answered %s%s",
                request_id,
                by_route,
                status,
                "" if outcome is None else f" ({outcome.value})",
            )

    async def _record(
        self,
        scope: Scope,
        state: dict[str, Any],
        request_id: str,
        status: int,
        outcome: AuditOutcome | None = None,
    ) -> None:
        entry = _entry(scope, state, request_id, status, outcome)
        if entry is None:
            return
        engine: Engine = scope["app"].state.engine
        try:
            await anyio.to_thread.run_sync(record, engine, entry)
        except Exception:
            # The access has happened; a lost entry must be loud in the logs (ids only).
            log.exception("audit entry for request %s could not be written", request_id)
            raise


def _streamed(headers: list[tuple[bytes, bytes]]) -> bool:
    return not any(name.lower() == b"content-length" for name, _ in headers)


def _is_fhir(scope: Scope) -> bool:
    path: str = scope["path"]
    return path == "/fhir" or path.startswith("/fhir/")


async def _answer_500(send: Send, request_id: str, *, fhir: bool = False) -> None:
    """A 500 that names the request id and nothing of the failure (the FHIR facade answers
    an OperationOutcome, as for any error)."""
    detail = f"internal error (request {request_id})"
    body = orjson.dumps(operation_outcome(detail, "exception") if fhir else {"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/fhir+json" if fhir else b"application/json"),
                (REQUEST_ID_HEADER, request_id.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
