"""Control characters refused at the edge (issue 12, F7): 400 before any route runs.

No path, search value or form field of CervixWatch has a use for a control character, and
PostgreSQL cannot store a NUL in text at all: sent through, a NUL in a search value or an
imported name answered 500. So a request is refused with 400, naming where the character was,
when its path or query string holds a C0 control character or DEL (after percent-decoding),
or when its JSON or form body holds a NUL (a raw 0x00 byte, the JSON escape \\u0000, or %00 in
a form). Other controls inside a body (a new line in a note) are the domain's to judge, and
bodies of other types (a DICOM file, an HL7 message) pass untouched.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cervixwatch.web.limits import refuse_at_the_edge

_CONTROL: Final = re.compile(rb"[\x00-\x1f\x7f]")
#: \u0000 after an even number of backslashes (none included): an escaped NUL, not the text
#: "\u0000" written with an escaped backslash.
_JSON_NUL: Final = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_FORM_NUL: Final = re.compile(rb"%00")
_JSON_TYPES: Final = (b"application/json", b"application/fhir+json")
_FORM_TYPE: Final = b"application/x-www-form-urlencoded"


def control_character_in(raw: bytes) -> str | None:
    """ "U+0000" for the first control character in `raw`, else None."""
    found = _CONTROL.search(raw)
    return None if found is None else f"U+{found.group()[0]:04X}"


def nul_in_body(content_type: bytes, body: bytes) -> bool:
    """Whether a JSON or form body carries a NUL, raw or escaped."""
    media = content_type.split(b";", 1)[0].strip().lower()
    if b"\x00" in body and (media in _JSON_TYPES or media == _FORM_TYPE):
        return True
    if media in _JSON_TYPES:
        return _JSON_NUL.search(body) is not None
    if media == _FORM_TYPE:
        return _FORM_NUL.search(body) is not None
    return False


class RefuseControlCharacters:
    """Pure ASGI middleware: checks the path and query string at once; a JSON or form body is
    read whole first (the routes read it whole anyway, and the size limit outside this one
    still applies), checked, and handed on unchanged, so no part of a refused request reaches
    a route or the database."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        where = _where(unquote_to_bytes(path), "the path") or _where(
            unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" ")),
            "the query string",
        )
        if where is not None:
            await _refuse(scope, send, where)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if not _checked_type(content_type):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if nul_in_body(content_type, body):
            await _refuse(scope, send, "the body (a NUL character, U+0000)")
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _checked_type(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media in _JSON_TYPES or media == _FORM_TYPE


def _where(raw: bytes, part: str) -> str | None:
    character = control_character_in(raw)
    return None if character is None else f"{part} (control character {character})"


async def _refuse(scope: Scope, send: Send, where: str) -> None:
    await refuse_at_the_edge(
        scope, send, 400, f"a control character is not allowed in {where}", "invalid"
    )
