"""Obstetric-history counts (IPS) read as previous pregnancies known only from the count
(interop/history_counts.py), and written back as counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from cervixwatch.clinical.records import PregnancyRecords, PriorOutcome, PriorPregnancy
from cervixwatch.interop.fhir_bundle import read_bundle
from cervixwatch.interop.fhir_values import BundleError
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.interop.history_counts import counts_of
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb

AS_OF = dt.date(2026, 2, 2)


def read(*resources: dict[str, Any], as_of: dt.date = AS_OF) -> PregnancyRecords:
    return read_bundle(fb.dumps(fb.bundle(*resources)), as_of)


def counted(records: PregnancyRecords) -> list[tuple[str | None, PriorOutcome | None]]:
    return sorted(
        ((p.counted_as, p.outcome) for p in records.prior_pregnancies if p.counted_as),
        key=repr,
    )


def test_a_preterm_birth_count_without_detail_is_a_pregnancy_whose_details_are_unknown() -> None:
    records = read(fb.history_count(c.PRETERM_BIRTHS_COUNT, 1, rid="ips-preterm"))
    assert records.prior_pregnancies == (
        PriorPregnancy(None, None, None, None, source_id="ips-preterm", counted_as="preterm birth"),
    )


def test_a_miscarriage_count_gives_miscarriages_of_unknown_gestation() -> None:
    records = read(fb.history_count(c.SPONTANEOUS_ABORTIONS_COUNT, 2))
    assert counted(records) == [("miscarriage", PriorOutcome.MISCARRIAGE)] * 2
    assert all(p.gestation_days is None for p in records.prior_pregnancies)


def test_a_count_given_as_value_integer_is_read() -> None:
    count = fb.observation(c.PRETERM_BIRTHS_COUNT, rid="n", valueInteger=1)
    assert counted(read(count)) == [("preterm birth", None)]


@pytest.mark.parametrize(
    ("details", "count", "added"),
    [
        ([], 2, 2),
        ([fb.prior_pregnancy(weeks=30)], 1, 0),  # the detail accounts for the count
        ([fb.prior_pregnancy(weeks=30)], 2, 1),
        ([fb.prior_pregnancy(weeks=30), fb.prior_pregnancy(weeks=33, rid="p2")], 1, 0),
        ([fb.prior_pregnancy("stillbirth", weeks=28)], 1, 0),
        ([fb.prior_pregnancy(weeks=39)], 1, 1),  # a term birth is not the preterm one
        ([fb.prior_pregnancy(weeks=None)], 1, 1),  # gestation unknown: may have been at term
        ([fb.prior_pregnancy("miscarriage", weeks=20)], 1, 1),
    ],
)
def test_detailed_pregnancies_account_for_a_preterm_count(
    details: list[dict[str, Any]], count: int, added: int
) -> None:
    records = read(*details, fb.history_count(c.PRETERM_BIRTHS_COUNT, count))
    assert counted(records) == [("preterm birth", None)] * added
    assert len(records.prior_pregnancies) == len(details) + added


def test_detailed_miscarriages_account_for_a_miscarriage_count() -> None:
    records = read(
        fb.prior_pregnancy("miscarriage", weeks=10, onset=None),
        fb.history_count(c.SPONTANEOUS_ABORTIONS_COUNT, 3),
    )
    assert counted(records) == [("miscarriage", PriorOutcome.MISCARRIAGE)] * 2


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Term births and induced abortions add nothing of their own.
        ({c.TERM_BIRTHS_COUNT: 2, c.INDUCED_ABORTIONS_COUNT: 1}, []),
        ({c.PRETERM_BIRTHS_COUNT: 0, c.SPONTANEOUS_ABORTIONS_COUNT: 0}, []),
        # Births total less term births are preterm births.
        ({c.BIRTHS_TOTAL_COUNT: 3, c.TERM_BIRTHS_COUNT: 2}, [("preterm birth", None)]),
        ({c.BIRTHS_TOTAL_COUNT: 2, c.TERM_BIRTHS_COUNT: 2}, []),
        # Births total alone: births of unknown term.
        ({c.BIRTHS_TOTAL_COUNT: 2}, [("birth", None)] * 2),
        # A preterm count says it all: births total is not read beside it.
        ({c.BIRTHS_TOTAL_COUNT: 3, c.PRETERM_BIRTHS_COUNT: 1}, [("preterm birth", None)]),
        # Abortions less induced ones are miscarriages; alone, of unknown kind.
        (
            {c.ABORTIONS_COUNT: 3, c.INDUCED_ABORTIONS_COUNT: 1},
            [("miscarriage", PriorOutcome.MISCARRIAGE)] * 2,
        ),
        ({c.ABORTIONS_COUNT: 1}, [("miscarriage or termination", None)]),
        (
            {c.ABORTIONS_COUNT: 3, c.SPONTANEOUS_ABORTIONS_COUNT: 1},
            [("miscarriage", PriorOutcome.MISCARRIAGE)],
        ),
        # Inconsistent totals never add a negative number.
        ({c.BIRTHS_TOTAL_COUNT: 1, c.TERM_BIRTHS_COUNT: 2}, []),
    ],
)
def test_which_counts_are_read(
    counts: dict[c.Code, int], expected: list[tuple[str, PriorOutcome | None]]
) -> None:
    resources = [
        fb.history_count(code, n, rid=f"count-{i}") for i, (code, n) in enumerate(counts.items())
    ]
    assert counted(read(*resources)) == sorted(expected, key=repr)


def test_the_latest_count_stands_and_one_made_after_as_of_is_not_yet_known() -> None:
    records = read(
        fb.history_count(c.PRETERM_BIRTHS_COUNT, 1, rid="old", effectiveDateTime="2024-05"),
        fb.history_count(c.PRETERM_BIRTHS_COUNT, 2, rid="new", effectiveDateTime="2025-11-22"),
        fb.history_count(c.PRETERM_BIRTHS_COUNT, 3, rid="later", effectiveDateTime="2026-02-03"),
    )
    assert {p.source_id for p in records.prior_pregnancies} == {"new"}
    assert len(records.prior_pregnancies) == 2


@pytest.mark.parametrize(
    ("value", "words"),
    [(-1, "at least 0"), (1.5, "whole number"), ("2", "whole number"), (31, "plausible")],
)
def test_an_invalid_count_is_an_error_naming_the_field(value: Any, words: str) -> None:
    with pytest.raises(BundleError) as raised:
        read(fb.history_count(c.PRETERM_BIRTHS_COUNT, value, rid="n"))
    message = str(raised.value)
    assert message.startswith("Observation/n (entry 1): valueQuantity.value: ")
    assert words in message
    assert "preterm births" in message


@pytest.mark.parametrize(
    "counts",
    [
        {c.PRETERM_BIRTHS_COUNT: 2, c.SPONTANEOUS_ABORTIONS_COUNT: 1},
        {c.BIRTHS_TOTAL_COUNT: 2},
        {c.ABORTIONS_COUNT: 2},
        {c.BIRTHS_TOTAL_COUNT: 3, c.TERM_BIRTHS_COUNT: 1, c.ABORTIONS_COUNT: 2},
    ],
)
def test_counted_pregnancies_are_written_back_as_counts(counts: dict[c.Code, int]) -> None:
    details = [
        fb.prior_pregnancy(weeks=30),
        fb.prior_pregnancy("live-birth", weeks=40, rid="term"),
        fb.prior_pregnancy("miscarriage", weeks=9, onset=None, rid="early"),
        fb.prior_pregnancy("termination", weeks=8, onset=None, rid="top"),
    ]
    resources = [fb.history_count(k, n, rid=f"n{i}") for i, (k, n) in enumerate(counts.items())]
    original = read(*details, *resources)
    exported = bundle_from_records(original)
    again = read_bundle(orjson.dumps(exported), AS_OF)
    assert counted(again) == counted(original)
    assert len(again.prior_pregnancies) == len(original.prior_pregnancies)


def test_a_counted_as_the_reader_never_gives_has_no_count() -> None:
    odd = PriorPregnancy(None, None, None, None, counted_as="twin birth")
    with pytest.raises(ValueError, match="twin birth"):
        counts_of([odd])
