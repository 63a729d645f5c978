"""`cervixwatch hl7-listen`: an MLLP listener (asyncio, python-hl7's MLLP streams) taking
ORU^R01 results from ultrasound reporting systems and answering each with an ACK
(`interop.hl7_ack`):

- AA: its results stored for the woman it names, received before (stored once), or kept for
  a clinician's review (it names no woman stored here).
- AE with ERR: it cannot be applied (a missing segment, a unit that is not a length, a code
  CervixWatch does not read, a preliminary result, a date outside her pregnancy).
- AR with ERR: the message itself cannot be taken (not HL7 v2, wrong encoding characters,
  not ORU^R01), or the database could not be written (ERR 207: send it again).

Messages on one connection are handled in order (a correction after its result), each in a
worker thread so the event loop keeps reading. Logs carry message ids, never patient data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import hl7.mllp
from sqlalchemy.exc import SQLAlchemyError

from cervixwatch.app.device_intake import IntakeDesk, Refused
from cervixwatch.interop.hl7_ack import ack
from cervixwatch.interop.hl7_oru import Hl7Refusal, Location, parse_message
from cervixwatch.interop.intake import IntakeError
from cervixwatch.store.audit import AuditEntry

__all__ = ["answer", "serve_hl7"]

log = logging.getLogger(__name__)

#: The largest message taken (a result with its PDF would be larger; CervixWatch reads none).
_LIMIT = 1024 * 1024


def _header(raw: bytes) -> tuple[str, tuple[str, str]]:
    """MSH-10 and (MSH-3, MSH-4) of a message, where they can be read at all."""
    try:
        message = parse_message(raw)
        msh = message.segment("MSH")
        return str(msh[10]).strip(), (str(msh[3]).strip(), str(msh[4]).strip())
    except Exception:  # the refusal says why; here only the ids for the ACK are wanted
        return "", ("", "")


def answer(desk: IntakeDesk, raw: bytes, peer: str) -> bytes:
    """The ACK to one message (read, received, refused), after its intake."""
    control_id, sending = _header(raw)
    audit = AuditEntry(
        action="device-intake",
        method="MLLP",
        route="hl7-listen",
        path="",
        status=0,
        request_id=str(uuid.uuid4()),
        via="hl7",
        client_address=peer[:64],
    )
    now = dt.datetime.now(dt.UTC)
    ack_id = uuid.uuid4().hex[:20]
    try:
        received = desk.take("hl7v2", raw, source=f"hl7:{sending[0]}", audit=audit)
    except Hl7Refusal as error:
        log.info("HL7 %s refused: %s %s", control_id, error.ack, error.location)
        return ack(
            error.ack,
            control_id=control_id,
            sending=sending,
            at=now,
            ack_id=ack_id,
            location=error.location,
            hl7_error=error.hl7_error,
            problem=error.problem,
        )
    except (IntakeError, Refused) as error:
        log.info("HL7 %s refused: not applicable", control_id)
        return ack(
            "AE",
            control_id=control_id,
            sending=sending,
            at=now,
            ack_id=ack_id,
            location=Location("OBX"),
            hl7_error=102,
            problem=str(error),
        )
    except SQLAlchemyError as error:
        log.error("HL7 %s: the database failed (%s)", control_id, type(error).__name__)
        return ack(
            "AR",
            control_id=control_id,
            sending=sending,
            at=now,
            ack_id=ack_id,
            location=Location("MSH"),
            hl7_error=207,
            problem="the database could not be written; send the message again",
        )
    log.info("HL7 %s: %s", control_id, received.outcome)
    return ack("AA", control_id=control_id, sending=sending, at=now, ack_id=ack_id)


async def _connection(desk: IntakeDesk, reader: Any, writer: Any) -> None:
    peer = str(writer.get_extra_info("peername") or "")
    try:
        while not reader.at_eof():
            try:
                raw = await reader.readblock()
            except asyncio.IncompleteReadError:
                break
            except (hl7.mllp.InvalidBlockError, ValueError) as error:
                log.info("MLLP block refused from a client (%s)", type(error).__name__)
                break
            reply = await asyncio.to_thread(answer, desk, bytes(raw), peer)
            writer.writeblock(reply)
            await writer.drain()
    finally:
        writer.close()


async def serve_hl7(
    desk: IntakeDesk, *, host: str, port: int, started: asyncio.Event | None = None
) -> None:
    """Serve MLLP on `host`:`port` until cancelled."""

    async def connected(reader: Any, writer: Any) -> None:
        await _connection(desk, reader, writer)

    server = await hl7.mllp.start_hl7_server(connected, host=host, port=port, limit=_LIMIT)
    async with server:
        if started is not None:
            started.set()
        await server.serve_forever()
