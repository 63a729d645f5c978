"""Every recommendation code of the contract says what it asks of the clinic, so the worklist
shows only the actions that need doing (issue 13, part 5)."""

from __future__ import annotations

from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES
from cervixwatch.knowledge.recommendation_kinds import RECOMMENDATION_KINDS, is_open_task


def test_every_code_has_a_kind_and_no_kind_names_an_unknown_code() -> None:
    assert set(RECOMMENDATION_KINDS) == set(RECOMMENDATION_CODES)


def test_only_due_or_overdue_tasks_are_open() -> None:
    assert is_open_task("remove-cerclage", "overdue")
    assert is_open_task("serial-cervical-length", "due")
    for state in ("in-place", "declined", "missed"):
        assert not is_open_task("vaginal-progesterone", state)
    # Generic advice, the referral and the urgent evaluation (the row's reason) are not.
    for code in ("no-activity-restriction", "refer-preterm-birth-clinic", "urgent-evaluation"):
        assert not is_open_task(code, "due")
    # A code the table does not know is shown rather than hidden.
    assert is_open_task("a-code-from-a-later-contract", "due")
