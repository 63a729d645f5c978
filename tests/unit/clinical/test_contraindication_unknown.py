"""A contraindication that cannot be ruled out withholds the cerclage it guards, and says why.

`assess` treats a suppression whose condition is unknown (a fact it needs was not recorded) as
holding: the codes it guards are withheld "could not be ruled out", and `missing` names what
would settle it (issue 10, "How it is checked": deleting that branch left every test green).

The bundled profiles cannot show this today: their contraindication suppressions ask whether
`cerclage-contraindicated` fired, which is always known. So a hypothetical local protocol, one
YAML file in a knowledge directory as a hospital would add it (docs/knowledge-base.md), makes
an examination finding a contraindication; the examination itself is driven through records.
Its rule is made up to exercise the evaluator and is no clinical source.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from cervixwatch.clinical.assessment import Assessment, assess
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.clinical.records import Medication
from cervixwatch.knowledge import load_profiles
from tests.builders import Woman, woman

CERCLAGE = "history-indicated-cerclage"
REASON = "The cervix is open or the membranes are visible: a consultant decides on a cerclage."

LOCAL: dict[str, Any] = {
    "profile": "local",
    "version": "2026.1",
    "title": "St Elsewhere Maternity (hypothetical local protocol, for tests)",
    "citations": {"SEM": "St Elsewhere Maternity. Preterm birth prevention protocol. 2026."},
    "sources": {
        "SEM-03": {
            "citation": "SEM",
            "section": "3.1",
            "words": "After a mid-trimester loss, offer a history-indicated cerclage.",
            "provenance": "S",
        },
        "SEM-04": {
            "citation": "SEM",
            "section": "3.4",
            "words": "Before a history-indicated cerclage, examine the cervix: if it is open "
            "(1 cm or more) or the membranes are visible, a consultant decides.",
            "provenance": "S",
        },
    },
    "recommendations": [
        {
            "code": CERCLAGE,
            "rule": "SEM-03",
            "strength": "offer",
            "summary": "Offer a history-indicated cerclage after a mid-trimester loss.",
            "when": {"all": ["singleton", "prior_mtl", {"fact": "ga_days", "lt": "24+0"}]},
        }
    ],
    "suppressions": [
        {
            "rule": "SEM-04",
            "reason": REASON,
            "when": {"any": [{"fact": "dilation_cm", "ge": 1}, "membranes_exposed"]},
            "codes": [CERCLAGE],
        }
    ],
}

#: A woman at 13+3 after a mid-trimester loss: the local rule offers her a cerclage.
CANDIDATE = woman("13+3").with_prior_loss("20+0")


def load(directory: Path, data: dict[str, Any]) -> GuidelineProfile:
    (directory / "local-2026.1.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_profiles(directory)["local"]


@pytest.fixture
def local(tmp_path: Path) -> GuidelineProfile:
    return load(tmp_path, LOCAL)


def assessed(w: Woman, profile: GuidelineProfile) -> Assessment:
    return assess(w.records, w.as_of, [profile])


def test_the_local_rule_offers_the_cerclage_when_the_cervix_is_known_closed(
    local: GuidelineProfile,
) -> None:
    result = assessed(CANDIDATE.with_exam("13+2", dilation_cm=0.0, membranes_exposed=False), local)
    assert result.codes("local") == {CERCLAGE}
    assert result.withheld == ()
    assert not [need for need in result.missing if "examination" in need]


@pytest.mark.parametrize(
    ("w", "unknown"),
    [
        pytest.param(CANDIDATE, "dilation", id="no examination"),
        pytest.param(
            CANDIDATE.with_exam("13+2", dilation_cm=None, membranes_exposed=False),
            "dilation",
            id="dilation not recorded",
        ),
        pytest.param(
            CANDIDATE.with_exam("13+2", dilation_cm=0.0, membranes_exposed=None),
            "membranes",
            id="membranes not recorded",
        ),
    ],
)
def test_a_contraindication_not_ruled_out_withholds_the_cerclage_and_asks_for_the_exam(
    local: GuidelineProfile, w: Woman, unknown: str
) -> None:
    result = assessed(w, local)
    assert CERCLAGE not in result.codes("local")
    [held] = result.withheld
    assert (held.code, held.guideline, held.rule, held.withheld_by) == (
        CERCLAGE,
        "local",
        "SEM-03",
        "SEM-04",
    )
    assert "could not be ruled out" in held.reason
    assert REASON in held.reason
    [need] = [need for need in result.missing if "examination" in need]
    assert unknown in need


@pytest.mark.parametrize(
    "w",
    [
        pytest.param(
            CANDIDATE.with_exam("13+2", dilation_cm=2.0, membranes_exposed=None), id="2cm"
        ),
        pytest.param(
            CANDIDATE.with_exam("13+2", dilation_cm=None, membranes_exposed=True), id="membranes"
        ),
    ],
)
def test_a_contraindication_present_withholds_the_cerclage_without_asking(
    local: GuidelineProfile, w: Woman
) -> None:
    result = assessed(w, local)
    assert CERCLAGE not in result.codes("local")
    [held] = result.withheld
    assert (held.code, held.withheld_by) == (CERCLAGE, "SEM-04")
    assert held.reason == REASON
    assert not [need for need in result.missing if "examination" in need]


#: The same protocol with a second rule and suppression: progesterone after a mid-trimester
#: loss, not offered again to a woman already taking it.
WITH_PROGESTERONE = copy.deepcopy(LOCAL)
WITH_PROGESTERONE["sources"]["SEM-05"] = {
    "citation": "SEM",
    "section": "3.5",
    "words": "After a mid-trimester loss, offer vaginal progesterone unless she takes it already.",
    "provenance": "S",
}
WITH_PROGESTERONE["recommendations"].append(
    {
        "code": "vaginal-progesterone",
        "rule": "SEM-05",
        "strength": "offer",
        "summary": "Offer vaginal progesterone after a mid-trimester loss.",
        "when": "prior_mtl",
    }
)
ALREADY_TAKING = "Already taking vaginal progesterone."
PROGESTERONE_SUPPRESSION = {
    "rule": "SEM-05",
    "reason": ALREADY_TAKING,
    "when": "on_vaginal_progesterone",
    "codes": ["vaginal-progesterone"],
}


@pytest.mark.parametrize("contraindication_first", [True, False])
def test_an_unknown_contraindication_and_another_suppression_both_hold_in_either_order(
    tmp_path: Path, contraindication_first: bool
) -> None:
    data = copy.deepcopy(WITH_PROGESTERONE)
    [contraindication] = data["suppressions"]
    order = [contraindication, PROGESTERONE_SUPPRESSION]
    data["suppressions"] = order if contraindication_first else order[::-1]
    w = CANDIDATE.with_medication(Medication.VAGINAL_PROGESTERONE, started_at="12+0")
    result = assessed(w, load(tmp_path, data))
    assert result.codes("local") == set()
    held = {h.code: h.reason for h in result.withheld}
    assert set(held) == {CERCLAGE, "vaginal-progesterone"}
    assert "could not be ruled out" in held[CERCLAGE]
    assert REASON in held[CERCLAGE]
    assert held["vaginal-progesterone"] == ALREADY_TAKING
