"""`cervixwatch rules` for review: each rule's assumptions, read from its condition (CD-01), and
each profile's courses of treatment with the rule behind every bound."""

from __future__ import annotations

import io

from rich.console import Console

from cervixwatch.clinical.conditions import parse_condition
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.views.rules_view import assumption_words, render_rules, rules_json


def test_assumptions_are_found_wherever_they_are_written() -> None:
    condition = parse_condition(
        {
            "all": [
                "singleton",
                {"any": [{"assume": {"not": "dilated"}, "words": "no dilation is assumed"}]},
                {"assume": {"not": "membranes_exposed"}, "words": "membranes not exposed"},
                {"assume": {"not": "dilated"}, "words": "no dilation is assumed"},
            ]
        }
    )
    assert assumption_words(condition) == ["no dilation is assumed", "membranes not exposed"]
    assert assumption_words(parse_condition({"not": "dilated"})) == []


def test_every_bundled_rule_that_assumes_lists_its_words() -> None:
    for profile in bundled_profiles().values():
        for rule in profile.rules:
            assert bool(assumption_words(rule.when)) is rule.when.assumes()


def test_the_courses_carry_each_bound_with_its_rule_and_citation() -> None:
    [acog] = rules_json([bundled_profiles()["acog"]])
    [course] = acog["courses"]
    assert course["code"] == "vaginal-progesterone"
    assert course["start_until"]["ga"] == "23+6"
    assert course["continue_until"] == {
        "ga": "34+0",
        "rule": "AFP22-VP",
        "words": "continue until 34+0",
        "citation": bundled_profiles()["acog"].citation_for("AFP22-VP"),
    }
    assert course["review_from"]["rule"] == "CW-TERM"


def test_the_text_shows_the_assumption_and_the_course_at_100_columns() -> None:
    console = Console(record=True, width=100, highlight=False, file=io.StringIO())
    render_rules(list(bundled_profiles().values()), console)
    out = console.export_text()
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "Assumes: no cervical dilation is assumed" in out
    assert "Courses of treatment (acog" in out
    assert "Courses of treatment (nice" in out
    # The longest code is not cut.
    assert "ultrasound-indicated-cerclage" in out
