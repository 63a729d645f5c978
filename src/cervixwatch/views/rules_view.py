"""The knowledge base for review (`cervixwatch rules`): every rule with its source's words,
citation and provenance, the assumptions it may make (CD-01: "each assumption is declared in
the profile next to the rule, so a reviewer sees it in `cervixwatch rules`"), the suppressions,
and each treatment's course (start window, continue until, review from, each with its rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cervixwatch.clinical.conditions import Assume, Condition
from cervixwatch.clinical.gestation import GestationalAge
from cervixwatch.clinical.guidelines import Course, GuidelineProfile
from cervixwatch.views.clinical_words import fact_label


def assumption_words(condition: Condition) -> list[str]:
    """The words of every `assume` node in a condition, in the order written: what the rule
    may assume when a fact is unknown (whether it does for a woman depends on her records)."""
    out: list[str] = []

    def walk(node: Condition) -> None:
        if isinstance(node, Assume) and node.words not in out:
            out.append(node.words)
        inner = getattr(node, "inner", None)
        if isinstance(inner, Condition):
            walk(inner)
        for part in getattr(node, "parts", ()):
            walk(part)

    walk(condition)
    return out


def _bound(profile: GuidelineProfile, days: int, rule: str, words: str = "") -> dict[str, Any]:
    return {
        "ga": str(GestationalAge(days)),
        "rule": rule,
        "words": words,
        "citation": profile.citation_for(rule),
    }


def course_json(profile: GuidelineProfile, course: Course) -> dict[str, Any]:
    """One treatment's course: it may be started up to `start_until` (inclusive), continues
    until `continue_until`, and from `review_from` stopping is reviewed."""
    return {
        "code": course.code,
        "in_place": course.in_place,
        "start_until": _bound(profile, course.start_until_days, course.start_rule),
        "continue_until": _bound(
            profile, course.continue_until_days, course.continue_rule, course.continue_words
        ),
        "review_from": None
        if course.review_from_days is None or course.review_rule is None
        else _bound(profile, course.review_from_days, course.review_rule, course.review_words),
    }


def rules_json(profiles: Sequence[GuidelineProfile]) -> list[dict[str, Any]]:
    """`cervixwatch rules --format json`: one object per profile."""
    return [
        {
            "profile": p.id,
            "version": p.version,
            "title": p.title,
            "recommendations": [
                {
                    "code": r.code,
                    "rule": r.rule,
                    "rules": list(r.rule_ids),
                    "strength": r.strength,
                    "provenance": r.provenance,
                    "summary": r.summary,
                    "assumptions": assumption_words(r.when),
                    "sources": [
                        {
                            "id": s,
                            "citation": p.citation_for(s),
                            "words": p.sources[s].words,
                            "provenance": p.sources[s].provenance_label,
                        }
                        for s in r.rule_ids
                    ],
                }
                for r in p.rules
            ],
            "suppressions": [
                {
                    "rule": s.rule,
                    "codes": sorted(s.codes),
                    "reason": s.reason,
                    "assumptions": assumption_words(s.when),
                }
                for s in p.suppressions
            ],
            "courses": [course_json(p, c) for c in p.courses.values()],
        }
        for p in profiles
    ]


def _rules_table(profile: GuidelineProfile) -> Table:
    table = Table(
        title=f"{profile.title} ({profile.id} {profile.version})",
        show_lines=True,
        expand=True,
        title_justify="left",
    )
    # The widest code (ultrasound-indicated-cerclage) on one line.
    table.add_column("Code, strength, rule, provenance", width=29, overflow="fold")
    table.add_column("Summary, assumptions, source's words and citation", ratio=1)
    for r in profile.rules:
        head = Text.assemble(
            (r.code, "bold"), "\n", r.strength, "\n", " + ".join(r.rule_ids), "\n", r.provenance
        )
        body = Text(r.summary)
        for words in assumption_words(r.when):
            body.append("\nAssumes: ", "bold yellow")
            body.append(words)
        body.append("\n")
        for rule_id in r.rule_ids:
            source = profile.sources[rule_id]
            body.append(f"\n{rule_id} [{source.provenance}]: ", "bold")
            body.append(f"{source.words}\n  ")
            body.append(profile.citation_for(rule_id), "dim")
        table.add_row(head, body)
    for held in profile.suppressions:
        body = Text(held.reason)
        for words in assumption_words(held.when):
            body.append("\nAssumes: ", "bold yellow")
            body.append(words)
        body.append("\n  ")
        body.append(profile.citation_for(held.rule), "dim")
        codes = (f"\n{code}" for code in sorted(held.codes))
        table.add_row(
            Text.assemble(("withholds", "bold"), *codes, f"\n{held.rule}"),
            body,
        )
    return table


def _courses_table(profile: GuidelineProfile) -> Table:
    table = Table(
        title=f"Courses of treatment ({profile.id} {profile.version})",
        show_lines=True,
        expand=True,
        title_justify="left",
    )
    table.add_column("Treatment", width=22, overflow="fold")
    table.add_column("Start window", ratio=1)
    table.add_column("Continue until", ratio=2)
    table.add_column("Review from", ratio=1)
    for c in profile.courses.values():
        review = (
            "-"
            if c.review_from_days is None
            else (
                f"{GestationalAge(c.review_from_days)}: {c.review_words or 'review stopping'}"
                f" ({c.review_rule})"
            )
        )
        table.add_row(
            Text.assemble((c.code, "bold"), f"\nin place while: {fact_label(c.in_place)}"),
            f"may be started up to {GestationalAge(c.start_until_days)} ({c.start_rule})",
            f"{GestationalAge(c.continue_until_days)}: "
            f"{c.continue_words or 'continue'} ({c.continue_rule})",
            review,
        )
    return table


def render_rules(profiles: Sequence[GuidelineProfile], console: Console) -> None:
    """`cervixwatch rules --format text`: each profile's rules, then its courses."""
    for profile in profiles:
        console.print(_rules_table(profile))
        if profile.courses:
            console.print(_courses_table(profile))
