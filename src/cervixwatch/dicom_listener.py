"""`cervixwatch dicom-listen`: a DICOM C-STORE SCP (pynetdicom) that takes Comprehensive and
Enhanced SRs from ultrasound machines and hands each to the intake desk
(`app.device_intake.IntakeDesk`), answering the C-STORE status the standard gives
(PS3.4 Annex B.2.3):

- 0x0000 Success: stored for the woman it names, received before (stored once), or kept for a
  clinician's review (it names no woman stored here).
- 0xA900 Error, data set does not match SOP class: not an OB-GYN Ultrasound Procedure Report
  (TID 5000).
- 0xC000 Error, cannot understand: unreadable, or nothing CervixWatch can store (no cervix
  length, a unit that is not a length, a date outside her pregnancy); the Error Comment
  (0000,0902) names the element.
- 0xA700 Refused, out of resources: the database could not be written (the machine retries).

Only the SR storage classes (and Verification, C-ECHO) are accepted at association; an image
is refused there. Logs carry the SOP Instance UID and the status, never patient data.
"""

from __future__ import annotations

import io
import logging
import socket
import uuid
from collections.abc import Sequence
from typing import Any, Final

from pydicom import dcmwrite
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom import AE, evt
from pynetdicom.transport import ThreadedAssociationServer
from sqlalchemy.exc import SQLAlchemyError

from cervixwatch.app.device_intake import IntakeDesk, Refused
from cervixwatch.interop.dicom_sr import SR_STORAGE_CLASSES
from cervixwatch.interop.intake import IntakeError
from cervixwatch.store.audit import AuditEntry

__all__ = ["STATUS", "start_dicom_listener"]

log = logging.getLogger(__name__)

#: C-STORE statuses (PS3.4 B.2.3).
STATUS: Final = {
    "success": 0x0000,
    "out-of-resources": 0xA700,
    "does-not-match": 0xA900,
    "cannot-understand": 0xC000,
}
_VERIFICATION: Final = "1.2.840.10008.1.1"
#: The transfer syntaxes accepted (uncompressed: SRs are small).
_TRANSFER_SYNTAXES: Final = [
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
]


def _status(code: int, comment: str | None = None) -> Dataset:
    answer = Dataset()
    answer.Status = code
    if comment:
        # Error Comment is LO: 64 characters at most.
        answer.ErrorComment = comment[:64]
    return answer


def _comment(error: IntakeError) -> str:
    """The Error Comment: the element (its last two steps: a full content path is longer than
    the 64 characters the field holds) and the problem."""
    where = ".".join((error.path or "file").split(".")[-2:])
    return f"{where}: {error.problem}"


def _part10(event: Any) -> bytes:
    """The dataset as a Part 10 file (preamble, file meta, dataset), as a file would hold it."""
    ds: Dataset = event.dataset
    ds.file_meta = event.file_meta
    out = io.BytesIO()
    if "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    dcmwrite(out, ds, enforce_file_format=True)
    return out.getvalue()


def _handler(desk: IntakeDesk) -> Any:
    def handle_store(event: Any) -> Dataset:
        calling = str(event.assoc.requestor.ae_title).strip()
        audit = AuditEntry(
            action="device-intake",
            method="C-STORE",
            route="dicom-listen",
            path="",
            status=0,
            request_id=str(uuid.uuid4()),
            via="dicom",
            client_address=str(event.assoc.requestor.address),
        )
        uid = str(getattr(event.request, "AffectedSOPInstanceUID", "") or "")
        try:
            payload = _part10(event)
            received = desk.take("dicom-sr", payload, source=f"dicom:{calling}", audit=audit)
        except IntakeError as error:
            code = (
                STATUS["does-not-match"]
                if error.code == "not-supported"
                else STATUS["cannot-understand"]
            )
            log.info("C-STORE %s refused: 0x%04X %s", uid, code, error.path or "")
            return _status(code, _comment(error))
        except Refused as error:
            log.info("C-STORE %s refused: not applicable (%s)", uid, error.path or "")
            return _status(STATUS["cannot-understand"], str(error))
        except SQLAlchemyError as error:
            log.error("C-STORE %s: the database failed (%s)", uid, type(error).__name__)
            return _status(STATUS["out-of-resources"], "the database could not be written")
        log.info("C-STORE %s: %s", uid, received.outcome)
        return _status(STATUS["success"])

    return handle_store


def _without_nagle(event: Any) -> None:
    """Send each PDU at once (TCP_NODELAY). With Nagle's algorithm on, the answer to a C-STORE
    waits for the sender's delayed ACK (40 ms on Linux) whenever it leaves in more than one
    write: with a sender that also keeps Nagle on, every report took ~57 ms over loopback
    whatever CervixWatch did (docs/performance.md)."""
    sock = getattr(getattr(event.assoc.dul, "socket", None), "socket", None)
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def start_dicom_listener(
    desk: IntakeDesk,
    *,
    host: str,
    port: int,
    ae_title: str,
    allowed_callers: Sequence[str] = (),
    block: bool = True,
) -> ThreadedAssociationServer | None:
    """Serve C-STORE (and C-ECHO) on `host`:`port` as `ae_title`. `allowed_callers`: the
    calling AE titles accepted (empty: any). `block`: serve until stopped (else the server is
    returned, to `shutdown()`)."""
    ae = AE(ae_title=ae_title)
    for sop_class in sorted(SR_STORAGE_CLASSES):
        ae.add_supported_context(sop_class, _TRANSFER_SYNTAXES)
    ae.add_supported_context(_VERIFICATION, _TRANSFER_SYNTAXES)
    ae.require_called_aet = True
    if allowed_callers:
        ae.require_calling_aet = list(allowed_callers)
    # Many reports at once from one machine: the database is the limit, not the sockets.
    ae.maximum_associations = 16
    handlers: list[Any] = [
        (evt.EVT_C_STORE, _handler(desk)),
        (evt.EVT_CONN_OPEN, _without_nagle),
    ]
    return ae.start_server((host, port), block=block, evt_handlers=handlers)
