"""What she is told to do about a symptom report (issue 13, part 8; CD-07): one answer, the
same wherever the report is spoken of."""

from __future__ import annotations

import datetime as dt

import pytest

from cervixwatch.clinical.facts import RED_FLAG_SYMPTOMS
from cervixwatch.clinical.records import Symptom
from cervixwatch.views.plain_language import report_news, what_to_do

WHEN = "2 March 2026 at 14:32"


@pytest.mark.parametrize("symptom", sorted(RED_FLAG_SYMPTOMS))
def test_a_red_flag_not_yet_seen_says_go_now(symptom: Symptom) -> None:
    advice = what_to_do({symptom, Symptom.BACKACHE}, when=WHEN, report_id=7)
    assert (advice.kind, advice.title, advice.report_id) == (
        "go-now",
        "Go to your maternity unit now",
        7,
    )
    assert advice.urgent
    assert f"on {WHEN}." in advice.sentences[0]


def test_another_symptom_not_yet_seen_says_call_now() -> None:
    advice = what_to_do({Symptom.CRAMPING}, when=WHEN)
    assert (advice.kind, advice.title) == ("call-now", "Call your maternity unit now")
    assert advice.sentences[0] == f"You told us about cramps on {WHEN}."


def test_once_reviewed_it_says_her_team_has_seen_it_whatever_the_symptom() -> None:
    advice = what_to_do(
        {Symptom.BLEEDING},
        when=WHEN,
        review_outcome="admitted",
        reviewed_on=dt.date(2026, 3, 3),
    )
    assert (advice.kind, advice.title, advice.urgent) == (
        "seen",
        "Your team has seen your report",
        False,
    )
    assert advice.sentences[:2] == (
        "Your team looked at your report on 3 March 2026.",
        "You were admitted to hospital.",
    )
    unknown = what_to_do(
        {Symptom.BLEEDING}, when=WHEN, review_outcome="x", reviewed_on=dt.date(2026, 3, 3)
    )
    assert len(unknown.sentences) == 2  # no sentence made up for an outcome not known


def test_her_list_says_when_and_whether_seen() -> None:
    at = dt.datetime(2026, 3, 2, 14, 32, tzinfo=dt.UTC)
    news = report_news(3, dt.date(2026, 3, 2), at, ["fluid-leak"], None)
    assert news.symptoms == "fluid leaking"
    assert news.when.startswith("2 March 2026 at ")
    assert news.status == "Your team has not marked it as seen yet."
    seen = report_news(3, dt.date(2026, 3, 2), None, ["fluid-leak"], dt.date(2026, 3, 2))
    assert (seen.when, seen.seen, seen.status) == (
        "2 March 2026",
        True,
        "Seen by your team on 2 March 2026.",
    )
