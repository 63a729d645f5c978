"""The DICOM SR reader: a Comprehensive or Enhanced SR holding an OB-GYN Ultrasound Procedure
Report (TID 5000, root concept (125000, DCM)) to a `DeviceResult`
(shared/clinical/standards.md, section 5).

- The content tree is walked whole; concepts are matched by (CodeValue,
  CodingSchemeDesignator), the standard codes and the sending device's own
  (`device_codes`), never by meaning text. The cervix length is a NUM item
  (11961-0, LN) in the Pelvis and Uterus section; its unit must be UCUM mm or cm.
- Several lengths in one report: the one marked with a Selection Status modifier
  (121404, DCM) if one is, else the shortest, as the record means it ("the shortest of the
  acceptable images", `clinical.records.CervicalLengthMeasurement`).
- The approach: transvaginal unless the item says otherwise; fhir-mapping.md reads a length
  without a method as transvaginal, and TID 5000's cervix length is a transvaginal measurement
  unless a modifier names another approach (only SNOMED 54300008, transvaginal, is verified in
  standards.md, so any other approach code is recorded as "other", never used for decisions).
- The day: the item's Observation DateTime, else the Study Date, else the Content Date.
- Her identity: Patient ID (0010,0020) under the system its issuer names: the universal
  entity id of IssuerOfPatientIDQualifiersSequence (ISO: `urn:oid:`, URI: itself), else
  IssuerOfPatientID (0010,0021) as the site's table maps it, else the device's configured
  system. None of these: she cannot be identified and the report waits for review.
- A corrected report names the report(s) it replaces in PredecessorDocumentsSequence
  (0040,A360): their lengths are taken back.

Errors name the element as a DICOM path (`ContentSequence[2].ContentSequence[0].
MeasuredValueSequence[0].MeasurementUnitsCodeSequence[0].CodeValue`).
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.valuerep import PersonName

from cervixwatch.clinical.records import CervicalLengthMeasurement, LengthMethod, PartialDate
from cervixwatch.interop.device_codes import Device, DeviceCodes, Meaning
from cervixwatch.interop.device_result import DeviceResult, ReportedLength, length_in_mm
from cervixwatch.interop.fhir_patient import Identifier
from cervixwatch.interop.intake import IntakeError, IssueCode

__all__ = ["SR_STORAGE_CLASSES", "read_sr", "read_sr_bytes"]

#: Comprehensive SR and Enhanced SR Storage (standards.md, section 5).
SR_STORAGE_CLASSES: Final = frozenset(
    {"1.2.840.10008.5.1.4.1.1.88.33", "1.2.840.10008.5.1.4.1.1.88.22"}
)
#: TID 5000's document title.
_OB_GYN_REPORT: Final = ("DCM", "125000")
_SELECTION_STATUS: Final = ("DCM", "121404")
_TRANSVAGINAL: Final = ("SCT", "54300008")
#: A gestational age's unit, in days per unit (UCUM).
_DAYS_PER: Final = {"d": 1, "wk": 7}


def _error(label: str, path: str | None, problem: str, code: IssueCode = "invalid") -> IntakeError:
    where = f"{label}: {path}: " if path else f"{label}: "
    return IntakeError(where + problem, resource=label, path=path, problem=problem, code=code)


def _concept(item: Dataset) -> tuple[str, str] | None:
    seq = item.get("ConceptNameCodeSequence")
    if not seq:
        return None
    code = seq[0]
    return str(code.get("CodingSchemeDesignator", "")).strip(), str(
        code.get("CodeValue", "")
    ).strip()


def _walk(items: object, path: str) -> Iterator[tuple[Dataset, str]]:
    """Every content item below, depth first, with its path."""
    if not items:
        return
    assert isinstance(items, pydicom.Sequence)
    for i, item in enumerate(items):
        here = f"{path}ContentSequence[{i}]"
        yield item, here
        yield from _walk(item.get("ContentSequence"), here + ".")


@dataclass(frozen=True, slots=True)
class _Length:
    mm: float
    path: str
    selected: bool
    method: LengthMethod
    observed: dt.date | None


def _da(value: object) -> dt.date | None:
    text = str(value or "").strip()
    if len(text) < 8:
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def _number(item: Dataset, path: str, label: str) -> tuple[float, str | None, str]:
    """(value, UCUM unit, path of the unit) of a NUM item."""
    seq = item.get("MeasuredValueSequence")
    at = f"{path}.MeasuredValueSequence"
    if not seq:
        raise _error(label, at, "a NUM item without a measured value", "value")
    measured = seq[0]
    try:
        value = float(measured.NumericValue)
    except (AttributeError, TypeError, ValueError):
        raise _error(label, f"{at}[0].NumericValue", "not a number", "value") from None
    units = measured.get("MeasurementUnitsCodeSequence")
    unit_path = f"{at}[0].MeasurementUnitsCodeSequence[0].CodeValue"
    if not units:
        return value, None, unit_path
    unit = units[0]
    if str(unit.get("CodingSchemeDesignator", "")).strip() != "UCUM":
        return value, None, unit_path
    return value, str(unit.get("CodeValue", "")).strip(), unit_path


def _modifiers(item: Dataset) -> tuple[bool, LengthMethod]:
    selected = False
    method = LengthMethod.TRANSVAGINAL
    for child in item.get("ContentSequence") or ():
        concept = _concept(child)
        if concept == _SELECTION_STATUS:
            selected = True
        value = child.get("ConceptCodeSequence")
        if value:
            code = (
                str(value[0].get("CodingSchemeDesignator", "")).strip(),
                str(value[0].get("CodeValue", "")).strip(),
            )
            if code == _TRANSVAGINAL:
                method = LengthMethod.TRANSVAGINAL
    return selected, method


def _observed(item: Dataset) -> dt.date | None:
    text = str(item.get("ObservationDateTime", "") or "")
    return _da(text[:8]) if text else None


def _identifier(
    ds: Dataset, codes: DeviceCodes, device: Device | None
) -> tuple[Identifier | None, str | None]:
    value = str(ds.get("PatientID", "") or "").strip()
    if not value:
        return None, "the report has no Patient ID (0010,0020)"
    qualifiers = ds.get("IssuerOfPatientIDQualifiersSequence")
    if qualifiers:
        entity = str(qualifiers[0].get("UniversalEntityID", "") or "").strip()
        kind = str(qualifiers[0].get("UniversalEntityIDType", "") or "").strip()
        if entity and kind == "ISO":
            return Identifier(value, f"urn:oid:{entity}"), None
        if entity and kind == "URI":
            return Identifier(value, entity), None
    issuer = str(ds.get("IssuerOfPatientID", "") or "").strip()
    if issuer:
        system = codes.issuers.get(issuer)
        if system is None:
            return None, (
                f"the issuer of the Patient ID ({issuer!r}) is not in the site's table of "
                "issuers (device codes file, `issuers`)"
            )
        return Identifier(value, system), None
    if device is not None and device.patient_id_system:
        return Identifier(value, device.patient_id_system), None
    return None, (
        "the Patient ID has no issuer, and no identifier system is configured for this device "
        "(device codes file, `patient_id_system`)"
    )


def _text(ds: Dataset, keyword: str) -> str | None:
    value = str(ds.get(keyword, "") or "").strip()
    return value or None


def _person(value: object) -> str | None:
    """A DICOM person name (`Family^Given`, the first if several) as people write it."""
    if isinstance(value, pydicom.multival.MultiValue):
        value = value[0] if value else None
    if not isinstance(value, PersonName):
        return None
    words = " ".join(x for x in (value.name_prefix, value.given_name, value.family_name) if x)
    return words.strip() or None


def _predecessors(ds: Dataset) -> tuple[str, ...]:
    found: list[str] = []
    for study in ds.get("PredecessorDocumentsSequence") or ():
        for series in study.get("ReferencedSeriesSequence") or ():
            for sop in series.get("ReferencedSOPSequence") or ():
                uid = str(sop.get("ReferencedSOPInstanceUID", "") or "").strip()
                if uid:
                    found.append(uid)
    return tuple(found)


def read_sr(ds: Dataset, codes: DeviceCodes) -> DeviceResult:
    """The report `ds` as a `DeviceResult`; raises `IntakeError` naming the element when it is
    not a TID 5000 report CervixWatch can store (no cervix length, a unit that is not a
    length, no date)."""
    uid = str(ds.get("SOPInstanceUID", "") or "").strip()
    label = f"SR {uid or '(no SOP Instance UID)'}"
    if not uid:
        raise _error(label, "SOPInstanceUID", "missing", "structure")
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if sop_class not in SR_STORAGE_CLASSES:
        raise _error(
            label,
            "SOPClassUID",
            f"{sop_class or 'none'} is not Comprehensive or Enhanced SR Storage",
            "not-supported",
        )
    if _concept(ds) != _OB_GYN_REPORT:
        raise _error(
            label,
            "ConceptNameCodeSequence[0]",
            "not an OB-GYN Ultrasound Procedure Report (TID 5000, (125000, DCM))",
            "not-supported",
        )
    manufacturer, model = _text(ds, "Manufacturer"), _text(ds, "ManufacturerModelName")
    device = codes.device(manufacturer=manufacturer, model=model)
    lengths: list[_Length] = []
    edd: tuple[dt.date, str] | None = None
    fetuses: tuple[int, str] | None = None
    ga_days: int | None = None
    for item, path in _walk(ds.get("ContentSequence"), ""):
        concept = _concept(item)
        if concept is None:
            continue
        meaning: Meaning | None = codes.meaning(*concept, device)
        kind = str(item.get("ValueType", ""))
        if meaning == "cervix-length" and kind == "NUM":
            value, unit, unit_path = _number(item, path, label)
            mm = length_in_mm(value, unit, resource=label, path=unit_path)
            if not 0 <= mm <= 80:
                raise _error(
                    label,
                    f"{path}.MeasuredValueSequence[0].NumericValue",
                    f"{mm:g} mm is outside 0-80 mm, the range a cervical length can have "
                    "(issue 13, part 3: product data check)",
                    "value",
                )
            selected, method = _modifiers(item)
            lengths.append(_Length(mm, path, selected, method, _observed(item)))
        elif meaning == "edd" and kind == "DATE":
            day = _da(item.get("Date"))
            if day is None:
                raise _error(label, f"{path}.Date", "not a date (YYYYMMDD)", "value")
            edd = (day, f"{path}.Date")
        elif meaning == "fetus-count" and kind == "NUM":
            value, _, _ = _number(item, path, label)
            if value != int(value) or not 1 <= value <= 8:
                raise _error(
                    label,
                    f"{path}.MeasuredValueSequence[0].NumericValue",
                    f"{value:g} is not a plausible number of fetuses",
                    "value",
                )
            fetuses = (int(value), path)
        elif meaning == "gestational-age" and kind == "NUM":
            value, unit, _ = _number(item, path, label)
            if unit in _DAYS_PER:
                ga_days = round(value * _DAYS_PER[unit])
    if not lengths:
        raise _error(
            label,
            "ContentSequence",
            "no cervix length (NUM (11961-0, LN), or a code mapped for this device) in the "
            "report: nothing to store",
            "value",
        )
    chosen = [x for x in lengths if x.selected] or lengths
    length = min(chosen, key=lambda x: x.mm)
    day = length.observed or _da(ds.get("StudyDate")) or _da(ds.get("ContentDate"))
    if day is None:
        raise _error(label, "StudyDate", "the report has no date of the scan", "value")
    identifier, unidentified = _identifier(ds, codes, device)
    birth = _da(ds.get("PatientBirthDate"))
    return DeviceResult(
        channel="dicom-sr",
        message_id=uid,
        label=label,
        patient_path="PatientID",
        patient_value=str(ds.get("PatientID", "") or "").strip(),
        identifier=identifier,
        unidentified=unidentified,
        birth_date=None if birth is None else PartialDate(birth.year, birth.month, birth.day),
        lengths=(
            ReportedLength(
                CervicalLengthMeasurement(day, length.mm, length.method, source_id=uid),
                source_id=uid,
                path=length.path,
            ),
        ),
        edd=edd,
        fetuses=fetuses,
        gestational_age_days=ga_days,
        takes_back=tuple(p for p in _predecessors(ds) if p != uid),
        operator=_person(ds.get("OperatorsName")),
        device=" ".join(x for x in (manufacturer, model, _text(ds, "StationName")) if x is not None)
        or None,
    )


#: Warnings are made errors while a file is read (below), which changes the process's warning
#: filters: one file at a time (the listener reads in several threads).
_READING = threading.Lock()
#: What reading a broken file raises (pydicom reads elements as they are first used).
_BROKEN = (InvalidDicomError, EOFError, OSError, ValueError, KeyError, TypeError, UserWarning)


def read_sr_bytes(raw: bytes, codes: DeviceCodes) -> DeviceResult:
    """A Part 10 file (or a bare dataset, as a C-STORE gives it) as a `DeviceResult`; a file
    that is not DICOM, or is cut short, raises `IntakeError` ("structure")."""
    # What pydicom only warns of (a file cut short, a sequence never closed) is a corrupt
    # file here: refused, not read in part.
    with _READING, warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            return read_sr(pydicom.dcmread(io.BytesIO(raw), force=False), codes)
        except IntakeError:
            raise
        except _BROKEN as error:
            raise _error(
                "SR", None, f"not a readable DICOM file ({type(error).__name__})", "structure"
            ) from None
