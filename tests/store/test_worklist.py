"""The worklist lists active pregnancies, most pressing first, and filters on the indexed
columns of the current assessment."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.reassessing import write_records
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store.models import PregnancyRow, PregnancyStatus, RecordSource
from cervixwatch.store.records import PatientFields
from cervixwatch.store.worklist import WorklistFilter, worklist, worklist_count

VIGNETTES = sorted((Path(__file__).parents[1] / "scenarios" / "vignettes").iterdir())


def _import_vignettes(factory: sessionmaker[Session]) -> dict[str, str]:
    """Every vignette as a woman (hospital number = its folder), assessed on its day."""
    pregnancies = {}
    for case in VIGNETTES:
        as_of = dt.date.fromisoformat(json.loads((case / "expected.json").read_text())["as_of"])
        records = read_bundle((case / "bundle.json").read_bytes(), as_of)
        written = write_records(
            factory,
            PatientFields(case.name[:3], family_name=case.name),
            records,
            as_of=as_of,
            profiles=bundled_profiles(),
            source=RecordSource.FHIR,
        )
        pregnancies[case.name[:3]] = written.pregnancy_id
    return pregnancies


def _must_be_urgent() -> set[str]:
    """Vignettes whose expected codes include `urgent-evaluation` for some guideline."""
    out = set()
    for case in VIGNETTES:
        expected = json.loads((case / "expected.json").read_text())
        if any("urgent-evaluation" in expected[g].get("must", []) for g in ("acog", "nice")):
            out.add(case.name[:3])
    return out


def test_urgent_first_then_overdue_then_by_next_scan(factory: sessionmaker[Session]) -> None:
    """The default order is by severity (`store.worklist_flags`, I-W-1): every urgent
    pregnancy before the rest; then a cerclage removal overdue, anything else overdue, a
    scan or removal due now, the rest; within each, by the next scan due, none due last."""
    _import_vignettes(factory)
    with factory() as session:
        entries = worklist(session, limit=1000)
        assert worklist_count(session) == len(entries) == len(VIGNETTES)
    urgency = [not e.urgent for e in entries]
    assert urgency == sorted(urgency)
    rest = [
        (
            e.cerclage_removal != "overdue",
            not e.overdue,
            not (e.next_scan_status == "due" or e.cerclage_removal == "due"),
            e.next_scan_due is None,
            e.next_scan_due or dt.date.min,
        )
        for e in entries
        if e.urgent_kind is None
    ]
    assert rest == sorted(rest)
    assert {key[3] for key in rest} == {True, False}  # some with a scan due, some without
    urgent = {e.hospital_number for e in entries if e.urgent}
    assert _must_be_urgent() <= urgent
    assert entries[0].urgent


def test_filters(factory: sessionmaker[Session]) -> None:
    _import_vignettes(factory)
    with factory() as session:
        everyone = worklist(session, limit=1000)
        high = worklist(session, WorklistFilter(risk_tiers={"high"}), limit=1000)
        urgent = worklist(session, WorklistFilter(urgent_only=True), limit=1000)
        cutoff = dt.date(2026, 3, 1)
        due = worklist(session, WorklistFilter(due_by=cutoff), limit=1000)
        assert worklist_count(session, WorklistFilter(urgent_only=True)) == len(urgent)
    assert high
    assert all(e.risk_tier == "high" for e in high)
    assert {e.pregnancy_id for e in high} == {
        e.pregnancy_id for e in everyone if e.risk_tier == "high"
    }
    assert urgent
    assert all(e.urgent for e in urgent)
    assert all(e.next_scan_due is not None and e.next_scan_due <= cutoff for e in due)


def test_pages_are_stable_and_ended_pregnancies_leave_the_list(
    factory: sessionmaker[Session],
) -> None:
    pregnancies = _import_vignettes(factory)
    with factory() as session:
        whole = worklist(session, limit=1000)
        pages = [*worklist(session, limit=10), *worklist(session, limit=10, offset=10)]
        pages += worklist(session, limit=10, offset=20)
        assert pages == whole
        session.execute(
            update(PregnancyRow)
            .where(PregnancyRow.id == pregnancies["V01"])
            .values(status=PregnancyStatus.ENDED)
        )
        session.commit()
        assert pregnancies["V01"] not in {e.pregnancy_id for e in worklist(session, limit=1000)}
