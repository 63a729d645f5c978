"""The acknowledgement of an HL7 v2 message (ACK, original mode): MSA-1 AA (accepted: stored,
or kept for review), AE (error: it cannot be applied) or AR (rejected: the message itself
cannot be taken), with an ERR segment naming the segment, its sequence and the field
(ERR-2), the HL7 error code (ERR-3, table 0357), the severity (ERR-4) and the problem in words
(ERR-8)."""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

from cervixwatch.interop.hl7_oru import Location

__all__ = ["ERROR_TEXT", "ack"]

#: HL7 table 0357's words for the codes used.
ERROR_TEXT: Final = {
    100: "Segment sequence error",
    101: "Required field missing",
    102: "Data type error",
    103: "Table value not found",
    200: "Unsupported message type",
    201: "Unsupported event code",
    203: "Unsupported version id",
    207: "Application internal error",
}


def _escaped(text: str) -> str:
    """Text put in a field, the delimiters escaped (HL7 v2 2.7 escape sequences)."""
    out = text.replace("\\", "\\E\\")
    for char, escape in (("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\")):
        out = out.replace(char, escape)
    return out.replace("\r", " ").replace("\n", " ")


def ack(
    code: Literal["AA", "AE", "AR"],
    *,
    control_id: str,
    sending: tuple[str, str] = ("", ""),
    at: dt.datetime,
    ack_id: str,
    location: Location | None = None,
    hl7_error: int | None = None,
    problem: str | None = None,
) -> bytes:
    """The ACK to the message `control_id` from (`sending` application, facility), as bytes
    (segments separated by CR, without the MLLP frame)."""
    app, facility = (_escaped(x) for x in sending)
    stamp = at.strftime("%Y%m%d%H%M%S")
    segments = [
        f"MSH|^~\\&|CERVIXWATCH|CERVIXWATCH|{app}|{facility}|{stamp}||ACK^R01^ACK|"
        f"{_escaped(ack_id)}|P|2.5.1",
        f"MSA|{code}|{_escaped(control_id)}",
    ]
    if code != "AA" and location is not None and hl7_error is not None:
        where = f"{location.segment}^{location.sequence}"
        if location.field is not None:
            where += f"^{location.field}"
        words = ERROR_TEXT.get(hl7_error, "")
        segments.append(
            f"ERR||{where}|{hl7_error}^{words}^HL70357|E||||{_escaped(problem or words)}"
        )
    return ("\r".join(segments) + "\r").encode("utf-8")
