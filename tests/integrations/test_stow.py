"""DICOMweb STOW-RS (`POST /dicomweb/studies`): SRs in a multipart/related body, each stored
or refused alone, answered with the Store Instances Response (DICOM JSON); authenticated as
the FHIR API is."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cervixwatch.store.database import session_factory
from cervixwatch.store.models import CervicalLengthRow
from tests.integrations.conftest import register
from tests.integrations.sr_builder import build_sr, sr_bytes
from tests.store.tables import row_counts
from tests.web.conftest import TODAY

BOUNDARY = "cw-boundary-1"
CONTENT_TYPE = f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'
SCANNED = TODAY - dt.timedelta(days=1)


def _body(*files: bytes) -> bytes:
    parts = [
        f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + f + b"\r\n"
        for f in files
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def test_stow_stores_each_instance_and_answers_the_store_response(
    client: TestClient, engine: Engine
) -> None:
    factory = session_factory(engine)
    register(factory, edd=TODAY + dt.timedelta(days=140))
    good = build_sr(lengths_mm=(2.5,), unit="cm", study_day=SCANNED)
    no_length = build_sr(lengths_mm=(), study_day=SCANNED)
    answer = client.post(
        "/dicomweb/studies",
        content=_body(sr_bytes(good), sr_bytes(no_length), b"corrupt"),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["content-type"].startswith("application/dicom+json")
    body = answer.json()
    [taken] = body["00081199"]["Value"]
    assert taken["00081155"]["Value"] == [str(good.SOPInstanceUID)]
    failed = body["00081198"]["Value"]
    assert [f["00081197"]["Value"] for f in failed] == [[0xC000], [0xC000]]
    assert failed[0]["00081155"]["Value"] == [str(no_length.SOPInstanceUID)]
    with factory() as session:
        assert session.scalars(select(CervicalLengthRow.length_mm)).all() == [25.0]

    counts = row_counts(factory)
    refused = client.post(
        "/dicomweb/studies",
        content=_body(sr_bytes(build_sr(unit="[in_i]", study_day=SCANNED))),
        headers={"Content-Type": CONTENT_TYPE},
    )
    assert refused.status_code == 409
    not_multipart = client.post(
        "/dicomweb/studies", content=sr_bytes(good), headers={"Content-Type": "application/dicom"}
    )
    assert not_multipart.status_code == 415
    anonymous = TestClient(client.app).post(
        "/dicomweb/studies", content=_body(sr_bytes(good)), headers={"Content-Type": CONTENT_TYPE}
    )
    assert anonymous.status_code == 401
    assert row_counts(factory) == counts
