"""The fault suite's judge (`ledger.check`) on databases made up here: it must see each way an
import can go wrong, or a clean fault run would prove nothing."""

from __future__ import annotations

from tests.faults.ledger import AuditRow, Signature, Stored, Tally, audit_problems, check
from tests.faults.loop import Attempt

WHOLE: Signature = {"patients": 1, "pregnancies": 1, "cervical_lengths": 3, "assessments": 1}


def _attempt(number: int, status: int | None, request_id: str = "") -> Attempt:
    return Attempt(number, 0, f"FLT{number}", 0.0, 1.0, status, request_id or f"r{number}")


def _entry(request_id: str, patient_id: str | None, outcome: str = "success") -> AuditRow:
    return AuditRow(request_id, patient_id, "POST", "/fhir", outcome, 200)


def _judge(
    stored_women: dict[int, Signature], audit: list[AuditRow], attempts: list[Attempt]
) -> Tally:
    stored = Stored(
        owners={f"FLT{n}": {f"p{n}"} for n in stored_women},
        rows={f"p{n}": rows for n, rows in stored_women.items()},
        audit=audit,
        chain_problem=None,
    )
    return check(stored, attempts, {0: WHOLE})


def test_whole_imports_and_absent_failures_pass() -> None:
    tally = _judge(
        {1: WHOLE, 3: WHOLE},
        [_entry("r1", "p1"), _entry("r2", None, "failed"), _entry("r3", "p3")],
        [_attempt(1, 200), _attempt(2, 503), _attempt(3, None), _attempt(4, None)],
    )
    assert tally.problems == []
    assert (tally.succeeded, tally.failed, tally.unanswered, tally.stored_unanswered) == (
        1,
        1,
        2,
        1,
    )


def test_a_lost_import_and_its_rows_are_counted() -> None:
    tally = _judge({}, [_entry("r1", "p1")], [_attempt(1, 201)])
    assert (tally.lost, tally.rows_lost) == (1, 6)
    assert tally.problems


def test_a_half_written_import_is_found_whether_answered_or_not() -> None:
    part = {**WHOLE, "cervical_lengths": 1}
    tally = _judge(
        {1: part, 2: part},
        [_entry("r1", "p1"), _entry("r2", "p2")],
        [_attempt(1, 200), _attempt(2, None)],
    )
    assert (tally.half_written, tally.rows_lost) == (2, 2)


def test_a_failed_answer_for_a_stored_woman_is_found() -> None:
    tally = _judge({1: WHOLE}, [_entry("r1", "p1")], [_attempt(1, 503)])
    assert tally.stored_though_failed == 1


def test_missing_and_extra_audit_entries_are_found() -> None:
    tally = _judge({1: WHOLE}, [], [_attempt(1, 200), _attempt(2, 503)])
    assert tally.audit_missing == 3  # two answers without an entry, one woman unnamed
    tally = _judge({1: WHOLE}, [_entry("r1", "p1"), _entry("x", "p1")], [_attempt(1, 200)])
    assert tally.audit_extra == 1


def test_duplicate_request_ids_and_successes_that_stored_nothing_are_found() -> None:
    stored = Stored({}, {}, [_entry("r1", None, "failed"), _entry("r1", "p9")], None)
    assert len(audit_problems(stored)) == 2
