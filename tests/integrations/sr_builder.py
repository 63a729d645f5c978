"""Synthetic OB-GYN ultrasound reports (DICOM SR, TID 5000) built with highdicom, as an
ultrasound machine would send them: the root container (125000, DCM) with template "5000", a
Pelvis and Uterus section (125011, DCM) holding the cervix length (11961-0, LN), and a
summary with the due date, fetus count and gestational age. Synthetic patients only."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence

import highdicom as hd
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sr.coding import Code
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

OB_GYN_REPORT = Code("125000", "DCM", "OB-GYN Ultrasound Procedure Report")
PELVIS_AND_UTERUS = Code("125011", "DCM", "Pelvis and Uterus")
SUMMARY = Code("121111", "DCM", "Summary")
CERVIX_LENGTH = Code("11961-0", "LN", "Cervix Length")
EDD = Code("11778-8", "LN", "EDD")
FETUSES = Code("11878-6", "LN", "Number of Fetuses by US")
GESTATIONAL_AGE = Code("18185-9", "LN", "Gestational Age")
STUDY_DAY = dt.date(2026, 11, 20)


def _unit(ucum: str) -> Code:
    return Code(ucum, "UCUM", ucum)


def _evidence(
    patient_id: str, issuer: str | None, oid: str | None, birth: str, study_day: dt.date
) -> Dataset:
    """The study the report belongs to (highdicom takes patient and study from it)."""
    ds = Dataset()
    ds.PatientID = patient_id
    ds.PatientName = "Synthetic^Patient"
    ds.PatientBirthDate = birth
    ds.PatientSex = "F"
    if issuer is not None:
        ds.IssuerOfPatientID = issuer
    if oid is not None:
        qualifier = Dataset()
        qualifier.UniversalEntityID = oid
        qualifier.UniversalEntityIDType = "ISO"
        ds.IssuerOfPatientIDQualifiersSequence = [qualifier]
    ds.StudyInstanceUID = generate_uid()
    ds.StudyDate = study_day.strftime("%Y%m%d")
    ds.StudyTime = "101500"
    ds.StudyID = "1"
    ds.AccessionNumber = "ACC1"
    ds.ReferringPhysicianName = ""
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"  # Ultrasound Image Storage
    ds.Modality = "US"
    return ds


def build_sr(
    patient_id: str = "SYN-0001",
    *,
    issuer: str | None = None,
    oid: str | None = "1.2.826.0.1.999999.1",
    lengths_mm: Sequence[float] = (23.0,),
    unit: str = "mm",
    edd: dt.date | None = None,
    fetuses: int | None = None,
    ga_days: int | None = None,
    replaces: str | None = None,
    manufacturer: str = "Synthetic Medical",
    model: str = "Sono 1",
    birth: str = "19900101",
    sop_instance_uid: str | None = None,
    study_day: dt.date = STUDY_DAY,
) -> Dataset:
    """A Comprehensive SR; `lengths_mm` empty makes one without a cervix length, `replaces`
    one that corrects the report with that SOP Instance UID."""
    measurements = [
        hd.sr.NumContentItem(
            name=CERVIX_LENGTH,
            value=value,
            unit=_unit(unit),
            relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
        )
        for value in lengths_mm
    ]
    section = hd.sr.ContainerContentItem(
        name=PELVIS_AND_UTERUS, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
    )
    section.ContentSequence = hd.sr.ContentSequence(measurements)
    summary_items: list[hd.sr.ContentItem] = []
    if edd is not None:
        summary_items.append(
            hd.sr.DateContentItem(
                name=EDD, value=edd, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
            )
        )
    if fetuses is not None:
        summary_items.append(
            hd.sr.NumContentItem(
                name=FETUSES,
                value=fetuses,
                unit=Code("1", "UCUM", "no units"),
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )
    if ga_days is not None:
        summary_items.append(
            hd.sr.NumContentItem(
                name=GESTATIONAL_AGE,
                value=ga_days,
                unit=_unit("d"),
                relationship_type=hd.sr.RelationshipTypeValues.CONTAINS,
            )
        )
    root = hd.sr.ContainerContentItem(name=OB_GYN_REPORT, template_id="5000")
    children: list[hd.sr.ContentItem] = []
    if summary_items:
        summary = hd.sr.ContainerContentItem(
            name=SUMMARY, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS
        )
        summary.ContentSequence = hd.sr.ContentSequence(summary_items)
        children.append(summary)
    children.append(section)
    root.ContentSequence = hd.sr.ContentSequence(children)
    evidence = _evidence(patient_id, issuer, oid, birth, study_day)
    sr = hd.sr.ComprehensiveSR(
        evidence=[evidence],
        content=root,
        series_instance_uid=generate_uid(),
        series_number=1,
        sop_instance_uid=sop_instance_uid or generate_uid(),
        instance_number=1,
        manufacturer=manufacturer,
        is_complete=True,
        is_final=True,
    )
    sr.ManufacturerModelName = model
    sr.OperatorsName = "Sonographer^Synthetic"
    for keyword in ("IssuerOfPatientID", "IssuerOfPatientIDQualifiersSequence"):
        if keyword in evidence:
            setattr(sr, keyword, getattr(evidence, keyword))
    if replaces is not None:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sr.SOPClassUID
        ref.ReferencedSOPInstanceUID = replaces
        series = Dataset()
        series.SeriesInstanceUID = generate_uid()
        series.ReferencedSOPSequence = [ref]
        study = Dataset()
        study.StudyInstanceUID = sr.StudyInstanceUID
        study.ReferencedSeriesSequence = [series]
        sr.PredecessorDocumentsSequence = [study]
    return sr


def sr_bytes(ds: Dataset) -> bytes:
    """The report as a Part 10 file (what a STOW-RS client or `storescu` sends)."""
    if (
        not hasattr(ds, "file_meta")
        or ds.file_meta is None
        or "TransferSyntaxUID" not in ds.file_meta
    ):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()
