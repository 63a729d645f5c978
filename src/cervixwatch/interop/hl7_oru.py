"""The HL7 v2 reader: an ORU^R01 result (v2.5.1; 2.3 to 2.8 read alike) from an ultrasound
reporting system to a `DeviceResult` (shared/clinical/standards.md, section 6), parsed with
python-hl7.

- Her identity: PID-3, each repetition an identifier `ID^^^authority^type`; the assigning
  authority (CX-4) gives the system: its universal id (ISO: `urn:oid:`, URI: itself), else
  its namespace as the site's table of issuers maps it, else the sending application's
  configured system. The first repetition with a system is used; none: she cannot be
  identified and the result waits for review.
- Results: each OBX whose OBX-3 is a code CervixWatch reads (LOINC 11961-0, the due date and
  fetus-count codes, or a code the site maps for the sending application, MSH-3), matched by
  (coding system OBX-3.3, code OBX-3.1). OBX with other codes are passed over; a message with
  none CervixWatch reads is refused (AE, OBX-3).
- OBX-11: F (final) and C (corrected) are stored; a correction has the same order, code and
  sub-id (OBR-3, OBX-3, OBX-4) as the result it corrects, so it replaces it. D (deleted)
  takes the result back. Other statuses (P preliminary, I, R, X...) are refused (AE, OBX-11):
  a preliminary length is not one to act on.
- Units (OBX-6): UCUM mm or cm; the day: OBX-14, else OBR-7, else MSH-7.

A refusal is an `Hl7Refusal`: the acknowledgement it gets (AR: the message itself cannot be
taken, a wrong header or type; AE: it cannot be applied), the segment, its sequence and the
field (for ERR-2), and the HL7 error code (table 0357, for ERR-3).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

import hl7

from cervixwatch.clinical.records import CervicalLengthMeasurement, LengthMethod, PartialDate
from cervixwatch.interop.device_codes import Device, DeviceCodes
from cervixwatch.interop.device_result import DeviceResult, ReportedLength, length_in_mm
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.interop.intake import IntakeError, IssueCode

__all__ = ["Hl7Refusal", "Location", "parse_message", "read_oru", "read_oru_bytes"]

Ack = Literal["AE", "AR"]
#: HL7 table 0357 (message error condition codes) used here.
SEGMENT_SEQUENCE: Final = 100
REQUIRED_FIELD_MISSING: Final = 101
DATA_TYPE: Final = 102
TABLE_VALUE_NOT_FOUND: Final = 103
UNSUPPORTED_MESSAGE_TYPE: Final = 200
UNSUPPORTED_EVENT: Final = 201
UNSUPPORTED_VERSION: Final = 203
#: The encoding characters of HL7 v2 (MSH-1 and MSH-2; a fifth, truncation, from v2.7).
_SEPARATOR: Final = "|"
_ENCODING: Final = ("^~\\&", "^~\\&#")
_STORED: Final = frozenset({"F", "C"})
_DELETED: Final = "D"


@dataclass(frozen=True, slots=True)
class Location:
    """Where an error is (ERR-2): segment id, its sequence in the message (1-based), field."""

    segment: str
    sequence: int = 1
    field: int | None = None

    def __str__(self) -> str:
        at = self.segment if self.sequence == 1 else f"{self.segment}[{self.sequence}]"
        return at if self.field is None else f"{at}-{self.field}"


class Hl7Refusal(IntakeError):
    """A message refused, with its acknowledgement code and what ERR says."""

    def __init__(
        self,
        ack: Ack,
        location: Location,
        problem: str,
        hl7_error: int,
        *,
        label: str = "HL7 message",
        code: IssueCode = "invalid",
    ) -> None:
        super().__init__(
            f"{label}: {location}: {problem}",
            resource=label,
            path=str(location),
            problem=problem,
            code=code,
        )
        self.ack: Ack = ack
        self.location = location
        self.hl7_error = hl7_error


def _text(raw: bytes) -> str:
    """The message as text: MLLP carries bytes; v2 is ASCII or Latin-1 unless MSH-18 says."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_message(raw: bytes | str) -> hl7.Message:
    """The message parsed, its header checked (AR when it cannot be taken at all)."""
    text = _text(raw) if isinstance(raw, bytes) else raw
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x0b\x1c")
    if not text.startswith("MSH"):
        raise Hl7Refusal(
            "AR",
            Location("MSH"),
            "the message does not start with MSH",
            SEGMENT_SEQUENCE,
            code="structure",
        )
    if text[3:4] != _SEPARATOR or not any(
        text[4:].startswith(enc + _SEPARATOR) for enc in _ENCODING
    ):
        raise Hl7Refusal(
            "AR",
            Location("MSH", 1, 2),
            f"encoding characters {text[3:9]!r}: expected |^~\\& (MSH-1 and MSH-2)",
            DATA_TYPE,
            code="structure",
        )
    try:
        return hl7.parse(text)
    except (hl7.ParseException, IndexError, ValueError) as error:
        raise Hl7Refusal(
            "AR", Location("MSH"), f"unreadable ({error})", SEGMENT_SEQUENCE, code="structure"
        ) from None


def _get(
    message: hl7.Message,
    segment: str,
    sequence: int,
    field: int,
    rep: int = 1,
    comp: int = 1,
    sub: int = 1,
) -> str:
    try:
        return str(message.extract_field(segment, sequence, field, rep, comp, sub)).strip()
    except (IndexError, KeyError):
        return ""


def _count(message: hl7.Message, segment: str) -> int:
    try:
        return len(message.segments(segment))
    except KeyError:
        return 0


def _ts(text: str) -> dt.date | None:
    digits = text.strip()[:8]
    if len(digits) < 8 or not digits.isdigit():
        return None
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def _identifier(
    message: hl7.Message, codes: DeviceCodes, device: Device | None
) -> tuple[Identifier | None, str | None, str]:
    """Her identifier from PID-3 (first repetition with a system), why none, and the first
    ID as sent (for the review queue)."""
    first = ""
    try:
        repetitions = len(message.segment("PID")[3])
    except (IndexError, KeyError):
        repetitions = 0
    for rep in range(1, max(repetitions, 1) + 1):
        value = _get(message, "PID", 1, 3, rep, 1)
        if not value:
            continue
        first = first or value
        universal = _get(message, "PID", 1, 3, rep, 4, 2)
        kind = _get(message, "PID", 1, 3, rep, 4, 3)
        namespace = _get(message, "PID", 1, 3, rep, 4, 1)
        if universal and kind == "ISO":
            return Identifier(value, f"urn:oid:{universal}"), None, first
        if universal and kind == "URI":
            return Identifier(value, universal), None, first
        if namespace and namespace in codes.issuers:
            return Identifier(value, codes.issuers[namespace]), None, first
        if not namespace and device is not None and device.patient_id_system:
            return Identifier(value, device.patient_id_system), None, first
    if not first:
        raise Hl7Refusal(
            "AE", Location("PID", 1, 3), "no patient identifier (PID-3)", REQUIRED_FIELD_MISSING
        )
    return (
        None,
        (
            "no PID-3 identifier has an assigning authority CervixWatch knows (a universal id, "
            "or a namespace in the site's table of issuers)"
        ),
        first,
    )


def _order_key(message: hl7.Message, control_id: str) -> str:
    """The order a result belongs to (filler, else placer number), for a correction to find
    the result it corrects."""
    return _get(message, "OBR", 1, 3) or _get(message, "OBR", 1, 2) or control_id


def read_oru(message: hl7.Message, codes: DeviceCodes) -> DeviceResult:
    """The ORU^R01 `message` as a `DeviceResult`; raises `Hl7Refusal` naming the segment and
    field."""
    kind, event = _get(message, "MSH", 1, 9, 1, 1), _get(message, "MSH", 1, 9, 1, 2)
    control_id = _get(message, "MSH", 1, 10)
    label = f"ORU {control_id or '(no MSH-10)'}"
    if kind != "ORU":
        raise Hl7Refusal(
            "AR",
            Location("MSH", 1, 9),
            f"message type {kind or 'none'}: only ORU^R01 is taken",
            UNSUPPORTED_MESSAGE_TYPE,
            label=label,
            code="not-supported",
        )
    if event != "R01":
        raise Hl7Refusal(
            "AR",
            Location("MSH", 1, 9),
            f"event {event or 'none'}: only ORU^R01 is taken",
            UNSUPPORTED_EVENT,
            label=label,
            code="not-supported",
        )
    version = _get(message, "MSH", 1, 12)
    if not version.startswith("2."):
        raise Hl7Refusal(
            "AR",
            Location("MSH", 1, 12),
            f"version {version or 'none'}: HL7 v2 (2.5.1) is taken",
            UNSUPPORTED_VERSION,
            label=label,
            code="not-supported",
        )
    if not control_id:
        raise Hl7Refusal(
            "AR",
            Location("MSH", 1, 10),
            "no message control id",
            REQUIRED_FIELD_MISSING,
            label=label,
        )
    for segment in ("PID", "OBR", "OBX"):
        if _count(message, segment) == 0:
            raise Hl7Refusal(
                "AE",
                Location(segment),
                f"no {segment} segment: an ORU^R01 result has PID, OBR and OBX",
                SEGMENT_SEQUENCE,
                label=label,
            )
    application = _get(message, "MSH", 1, 3)
    device = codes.device(application=application)
    identifier, unidentified, patient_value = _identifier(message, codes, device)
    order = _order_key(message, control_id)
    default_day = _ts(_get(message, "OBR", 1, 7)) or _ts(_get(message, "MSH", 1, 7))
    lengths: list[ReportedLength] = []
    takes_back: list[str] = []
    edd: tuple[dt.date, str] | None = None
    fetuses: tuple[int, str] | None = None
    read_any = False
    for n in range(1, _count(message, "OBX") + 1):
        code, system = _get(message, "OBX", n, 3, 1, 1), _get(message, "OBX", n, 3, 1, 3)
        meaning = codes.meaning(system, code, device)
        if meaning is None:
            continue
        read_any = True
        at = Location("OBX", n)
        status = _get(message, "OBX", n, 11)
        source_id = f"{application}/{order}/{system}|{code}/{_get(message, 'OBX', n, 4) or '1'}"
        if status == _DELETED:
            takes_back.append(source_id)
            continue
        if status not in _STORED:
            raise Hl7Refusal(
                "AE",
                Location("OBX", n, 11),
                f"result status {status or 'none'}:"
                " only final (F) and corrected (C) results are stored",
                TABLE_VALUE_NOT_FOUND,
                label=label,
            )
        value = _get(message, "OBX", n, 5)
        day = _ts(_get(message, "OBX", n, 14)) or default_day
        if meaning == "cervix-length":
            try:
                number = float(value)
            except ValueError:
                raise Hl7Refusal(
                    "AE",
                    Location("OBX", n, 5),
                    f"{value!r} is not a number",
                    DATA_TYPE,
                    label=label,
                ) from None
            unit_system = _get(message, "OBX", n, 6, 1, 3)
            unit = _get(message, "OBX", n, 6, 1, 1)
            if unit_system and unit_system not in ("UCUM", "ISO+", "ANSI"):
                unit = ""
            try:
                mm = length_in_mm(number, unit, resource=label, path=f"{at}-6")
            except IntakeError as error:
                raise Hl7Refusal(
                    "AE", Location("OBX", n, 6), error.problem, DATA_TYPE, label=label
                ) from None
            if not 0 <= mm <= 80:
                raise Hl7Refusal(
                    "AE",
                    Location("OBX", n, 5),
                    f"{mm:g} mm is outside 0-80 mm, the range a cervical length can have",
                    DATA_TYPE,
                    label=label,
                )
            if day is None:
                raise Hl7Refusal(
                    "AE",
                    Location("OBX", n, 14),
                    "no date of the observation (OBX-14, OBR-7 or MSH-7)",
                    REQUIRED_FIELD_MISSING,
                    label=label,
                )
            lengths.append(
                ReportedLength(
                    CervicalLengthMeasurement(day, mm, LengthMethod.TRANSVAGINAL, source_id),
                    source_id=source_id,
                    path=f"{at}-5",
                )
            )
        elif meaning == "edd":
            due = _ts(value)
            if due is None:
                raise Hl7Refusal(
                    "AE", Location("OBX", n, 5), f"{value!r} is not a date", DATA_TYPE, label=label
                )
            edd = (due, f"{at}-5")
        elif meaning == "fetus-count":
            if not value.isdigit() or not 1 <= int(value) <= 8:
                raise Hl7Refusal(
                    "AE",
                    Location("OBX", n, 5),
                    f"{value!r} is not a plausible number of fetuses",
                    DATA_TYPE,
                    label=label,
                )
            fetuses = (int(value), f"{at}-5")
    if not read_any:
        raise Hl7Refusal(
            "AE",
            Location("OBX", 1, 3),
            "no OBX carries a code CervixWatch reads "
            "(LOINC 11961-0, or a code mapped for this sending application)",
            TABLE_VALUE_NOT_FOUND,
            label=label,
            code="value",
        )
    birth = _ts(_get(message, "PID", 1, 7))
    return DeviceResult(
        channel="hl7v2",
        message_id=f"{application}|{control_id}",
        label=label,
        patient_path="PID-3",
        patient_value=patient_value,
        identifier=identifier,
        unidentified=unidentified,
        birth_date=None if birth is None else PartialDate(birth.year, birth.month, birth.day),
        lengths=tuple(lengths),
        edd=edd,
        fetuses=fetuses,
        takes_back=tuple(takes_back),
        operator=_get(message, "OBX", 1, 16) or None,
        device=application or None,
    )


def read_oru_bytes(raw: bytes, codes: DeviceCodes) -> DeviceResult:
    return read_oru(parse_message(raw), codes)
