"""The clinician's text (`render_text`), on records built by hand: readable at 100 columns; the
course of care (in place, declined, overdue, missed) and the assumptions beside each
recommendation; the treatments under way; the tier labelled beside the current findings; short
references in the rows and the full citations once, numbered, at the end."""

from __future__ import annotations

import dataclasses
import io
import re

from rich.console import Console

from cervixwatch.clinical.records import (
    CerclageIndication,
    CervicalLengthMeasurement,
    DeclinableCode,
    LengthComparator,
    Medication,
    Symptom,
)
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.views.text_view import References, render_text, short_references
from tests.builders import Woman, woman


def text(w: Woman, *guidelines: str, width: int = 100) -> str:
    chosen = guidelines or ("acog", "nice")
    profiles = [bundled_profiles()[g] for g in chosen]
    console = Console(record=True, width=width, highlight=False, file=io.StringIO())
    render_text(w.assess(*chosen), w.records, profiles, console)
    return console.export_text()


def wide(w: Woman, *guidelines: str) -> str:
    """So wide that no cell wraps: a phrase can be looked for whole."""
    return text(w, *guidelines, width=1000)


def row_of(out: str, code: str) -> str:
    """The first line of the table row that gives `code`."""
    return next(line for line in out.splitlines() if f" {code} " in line or f" {code}\n" in line)


PRIOR_SPTB_SHORT = (
    woman("20+0").with_prior_sptb("30+0").with_length(22, at="18+0").with_closed_cervix("18+0")
)


def test_it_reads_at_100_columns_without_fact_names() -> None:
    out = text(PRIOR_SPTB_SHORT)
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "ga_days" not in out
    assert "_mm" not in out
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", out.replace("history-indicated", ""))


def test_the_facts_are_in_clinical_words() -> None:
    out = wide(PRIOR_SPTB_SHORT)
    assert "GA 20+0" in out
    assert "previous spontaneous preterm birth before 34+0: yes" in out
    assert "shortest transvaginal length measured before 24+0: 22 mm on 2026-01-31 (18+0)" in out


def test_an_in_place_treatment_shows_as_the_current_treatment_not_an_offer() -> None:
    w = PRIOR_SPTB_SHORT.with_medication(Medication.VAGINAL_PROGESTERONE, started_at="18+3")
    out = wide(w)
    assert "IN PLACE vaginal-progesterone" in out
    assert "OFFER vaginal-progesterone" not in out
    assert "SHARED-DECISION vaginal-progesterone" not in out
    assert "Offer a choice of prophylactic vaginal progesterone" not in out
    assert "the current treatment, not an offer" in out
    treatments = out.partition("Current treatments")[2].partition("Cervical lengths")[0]
    assert f"vaginal progesterone since 18+3 ({w.day('18+3')})" in treatments


def test_past_its_start_window_the_treatment_is_still_shown_in_place() -> None:
    w = PRIOR_SPTB_SHORT.with_medication(Medication.VAGINAL_PROGESTERONE, started_at="18+3")
    out = wide(w.at("34+2"), "nice")
    assert "IN PLACE vaginal-progesterone" in out
    assert "May stop now" in out


def test_a_cerclage_in_situ_is_a_current_treatment() -> None:
    w = (
        woman("20+0")
        .with_prior_sptb("30+0")
        .with_cerclage("13+0", indication=CerclageIndication.HISTORY)
    )
    treatments = wide(w).partition("Current treatments")[2].partition("Cervical lengths")[0]
    assert "cerclage (transvaginal, history-indicated) in situ since 13+0" in treatments


def test_a_declined_offer_is_shown_as_declined() -> None:
    w = PRIOR_SPTB_SHORT.with_declined(DeclinableCode.VAGINAL_PROGESTERONE, "18+4")
    out = wide(w, "nice")
    assert "DECLINED" in row_of(out, "vaginal-progesterone")
    assert f"Offered and declined on 18+4 ({w.day('18+4')})" in out


def test_a_missed_screen_is_shown_in_the_row_and_the_scan_plan() -> None:
    w = woman("25+0").with_prior()
    out = wide(w, "acog")
    assert "MISSED" in row_of(out, "single-cervical-length-screen")
    plan = out.partition("Scan plan")[2]
    assert "MISSED" in plan
    assert "Missed: no transvaginal length" in plan


def test_an_assumption_is_listed_beside_its_recommendation() -> None:
    w = woman("20+0").with_prior().with_length(18, at="20+0")
    out = wide(w, "acog")
    assert "NOT-RECOMMENDED cerclage-not-recommended" in out
    assert "Assumes: no cervical dilation is assumed: no cervical exam is recorded" in out
    closed = wide(w.with_closed_cervix("20+0"), "acog")
    assert "NOT-RECOMMENDED cerclage-not-recommended" in closed
    assert "Assumes:" not in closed


def test_urgent_evaluation_says_why() -> None:
    w = woman("22+0")
    w = w.with_symptoms(Symptom.BLEEDING, reported_on=w.day("21+3"))
    out = wide(w)
    assert "Why urgent: bleeding: reported by the woman on 21+3" in out
    assert "4 days ago; not yet reviewed" in out


def test_the_tier_is_labelled_and_beside_the_current_findings() -> None:
    w = woman("20+0").with_prior().with_length(18, at="20+0")
    out = wide(w)
    assert (
        "Risk Saving Babies' Lives v3.1 history tier: low (SBL-02, SBL-03). Current findings:"
        " short cervix: shortest transvaginal length 18 mm"
    ) in out
    assert "none recorded (no short cervix" in wide(woman("20+0").with_prior())


def test_a_length_with_a_comparator_is_listed_with_it() -> None:
    w = woman("20+0")
    below = CervicalLengthMeasurement(w.day("19+0"), 10.0, comparator=LengthComparator.BELOW)
    out = wide(w.with_records(cervical_lengths=(below,)))
    assert f"{w.day('19+0')} (19+0) <10 mm transvaginal" in out
    assert "short cervix: shortest transvaginal length <10 mm" in out


def test_short_references_in_the_rows_and_full_citations_once_at_the_end() -> None:
    out = wide(PRIOR_SPTB_SHORT)
    rows, _, references = out.partition("\nReferences\n")
    cited = re.findall(r"(ACOG PB 142, 2014|NICE NG25, 2022) \[(\d+)\]", rows)
    assert {name for name, _ in cited} == {"ACOG PB 142, 2014", "NICE NG25, 2022"}
    numbers = dict(cited)
    assert len(set(cited)) == len(numbers), "one work, one number"
    assert re.search(rf"\[{numbers['ACOG PB 142, 2014']}\] American College", references)
    assert re.search(rf"\[{numbers['NICE NG25, 2022']}\] National Institute", references)
    listed = [int(n) for n in re.findall(r"^\s*\[(\d+)\] ", references, flags=re.MULTILINE)]
    assert listed == list(range(1, len(listed) + 1))
    for citation in {p.citations[k] for p in bundled_profiles().values() for k in p.citations}:
        assert out.count(citation) <= 1, citation
    assert "ACOG142-04: Summary of recommendations, Level A" in references


def test_a_work_without_a_short_name_is_cited_by_its_key() -> None:
    profile = bundled_profiles()["acog"]
    stripped = type(profile)(
        **{
            **{f.name: getattr(profile, f.name) for f in dataclasses.fields(profile) if f.init},
            "short_names": {},
        }
    )
    refs = References()
    assert short_references(stripped, ("ACOG142-04", "ACOG234-05"), refs) == (
        "ACOG142 [1]; ACOG234 [2]"
    )
    assert len(refs) == 2
