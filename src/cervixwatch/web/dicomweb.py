"""DICOMweb STOW-RS: `POST /dicomweb/studies` takes SRs from a reporting system or a PACS
that speaks DICOMweb (PS3.18 10.5), authenticated as the FHIR API is (a bearer token of an
integration account, a clinician-role account under the care teams new women join).

The body is `multipart/related; type="application/dicom"`, one Part 10 file per part. Each is
handed to the intake desk as a C-STORE's dataset is (`app.device_intake`), each alone (all or
nothing per instance), and the answer is the Store Instances Response Module as DICOM JSON
(`application/dicom+json`): the instances taken in ReferencedSOPSequence (0008,1199), those
refused in FailedSOPSequence (0008,1198) with a FailureReason (0008,1197): 0xA900 (not an
OB-GYN ultrasound report), 0xC000 (unreadable or nothing to store), 0xA700 (the database
could not be written). 200 when all were taken, 202 when some were, 409 when none were; 415
for a body that is not multipart/related of application/dicom.
"""

from __future__ import annotations

import email.parser
import email.policy
import io
import logging
from typing import Any, Final

import orjson
import pydicom
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from cervixwatch.app.device_intake import IntakeDesk, Received, Refused
from cervixwatch.app.device_readers import DeviceReaders, load_device_codes
from cervixwatch.interop.intake import IntakeError
from cervixwatch.web.access import ClinicalList, PrincipalDep, allow
from cervixwatch.web.audit import entry_for
from cervixwatch.web.deps import ProfilesDep, SessionsDep, SettingsDep

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["DICOMweb"])

DICOM_JSON: Final = "application/dicom+json"
_FAILURE: Final = {"does-not-match": 0xA900, "cannot-understand": 0xC000, "resources": 0xA700}


def _parts(content_type: str, body: bytes) -> list[bytes]:
    """The application/dicom parts of a multipart/related body; 415 for anything else."""
    if not content_type.lower().startswith("multipart/related"):
        raise HTTPException(415, 'send multipart/related; type="application/dicom"')
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise HTTPException(415, "the body is not a multipart/related message")
    wanted = str(message.get_param("type") or "application/dicom").lower()
    if wanted != "application/dicom":
        raise HTTPException(415, f'type="{wanted}": only type="application/dicom" is taken')
    found: list[bytes] = []
    for part in message.iter_parts():
        if part.get_content_type() != "application/dicom":
            raise HTTPException(415, f"a part of type {part.get_content_type()}")
        payload = part.get_payload(decode=True)
        found.append(payload if isinstance(payload, bytes) else b"")
    if not found:
        raise HTTPException(400, "the body holds no application/dicom part")
    return found


def _uid(payload: bytes, keyword: str) -> str | None:
    """An instance's UID for the answer, where the file can be read at all."""
    try:
        ds = pydicom.dcmread(io.BytesIO(payload), stop_before_pixels=True)
        value = ds.get(keyword)
        return None if value is None else str(value)
    except Exception:  # the refusal itself says why; here only the UID is wanted
        return None


def _reference(payload: bytes) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for tag, keyword in (("00081150", "SOPClassUID"), ("00081155", "SOPInstanceUID")):
        uid = _uid(payload, keyword)
        if uid is not None:
            item[tag] = {"vr": "UI", "Value": [uid]}
    return item


def _store(desk: IntakeDesk, parts: list[bytes], source: str, request: Request) -> Response:
    taken: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for payload in parts:
        audit = entry_for(request, 201)
        assert audit is not None
        reason: int | None = None
        received: Received | None = None
        try:
            received = desk.take("dicom-sr", payload, source=source, audit=audit)
        except IntakeError as error:
            reason = _FAILURE[
                "does-not-match" if error.code == "not-supported" else "cannot-understand"
            ]
        except Refused:
            reason = _FAILURE["cannot-understand"]
        except SQLAlchemyError as error:
            log.error("STOW-RS: the database failed (%s)", type(error).__name__)
            reason = _FAILURE["resources"]
        item = _reference(payload)
        if reason is None:
            assert received is not None
            taken.append(item)
        else:
            failed.append({**item, "00081197": {"vr": "US", "Value": [reason]}})
    answer: dict[str, Any] = {}
    if taken:
        answer["00081199"] = {"vr": "SQ", "Value": taken}
    if failed:
        answer["00081198"] = {"vr": "SQ", "Value": failed}
    status = 200 if not failed else 202 if taken else 409
    return Response(orjson.dumps(answer), status_code=status, media_type=DICOM_JSON)


@router.post(
    "/dicomweb/studies",
    summary="STOW-RS: store DICOM SRs (OB-GYN ultrasound reports) from a reporting system",
    response_model=None,
)
@allow(ClinicalList(audit_action="device-intake", writes=True))
async def store_instances(
    request: Request,
    principal: PrincipalDep,
    sessions: SessionsDep,
    profiles: ProfilesDep,
    settings: SettingsDep,
) -> Response:
    parts = _parts(request.headers.get("content-type", ""), await request.body())
    today = request.app.state.today
    desk = IntakeDesk(
        sessions=sessions,
        readers=DeviceReaders(load_device_codes(settings.device_codes_file)),
        profiles=profiles,
        today=today,
        local_system=settings.hospital_number_system,
    )
    return await run_in_threadpool(_store, desk, parts, f"user:{principal.user_id}", request)
