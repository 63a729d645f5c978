"""Guideline profiles are data: the bundled ones load and are internally consistent, a third
one is added by a file alone, and a malformed file is an error naming the file and the place
(docs/knowledge-base.md)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cervixwatch.cli import app
from cervixwatch.clinical.assessment import assess
from cervixwatch.clinical.facts import FACT_CATALOGUE, fact_spec
from cervixwatch.clinical.guidelines import RECOMMENDATION_CODES, STRENGTHS, GuidelineProfile
from cervixwatch.knowledge import (
    BUNDLED_PROFILES,
    KnowledgeError,
    bundled_profiles,
    load_profile,
    load_profiles,
)
from tests import fhir_builders as fb
from tests.builders import woman

#: The recommendation codes of the DESIGN.md contract.
CONTRACT_CODES = {
    "refer-preterm-birth-clinic",
    "single-cervical-length-screen",
    "serial-cervical-length",
    "history-indicated-cerclage",
    "ultrasound-indicated-cerclage",
    "exam-indicated-cerclage",
    "vaginal-progesterone",
    "cerclage-not-recommended",
    "cerclage-contraindicated",
    "no-activity-restriction",
    "remove-cerclage",
    "urgent-evaluation",
    "consider-abdominal-cerclage",
    "discontinue-17ohpc",
    "preterm-labour-diagnosed",
}

#: A hospital's own protocol: review any singleton with a length under 30 mm before 24+0, and
#: consider progesterone for it except in twins.
LOCAL: dict[str, Any] = {
    "profile": "local",
    "version": "2026.1",
    "title": "St Elsewhere Maternity (local protocol)",
    "citations": {
        "SEM": "St Elsewhere Maternity. Preterm birth prevention protocol, version 1. 2026.",
    },
    "sources": {
        "SEM-01": {
            "citation": "SEM",
            "section": "2.1",
            "words": "A transvaginal cervical length under 30 mm before 24+0 - review in clinic.",
            "provenance": "S",
        },
        "SEM-02": {
            "citation": "SEM",
            "section": "4.2",
            "words": "Twins - no progesterone.",
            "provenance": "M",
        },
    },
    "recommendations": [
        {
            "code": "refer-preterm-birth-clinic",
            "rule": "SEM-01",
            "strength": "recommend",
            "summary": "Review in the preterm birth clinic: a length under 30 mm before 24+0.",
            "when": {
                "all": [
                    "singleton",
                    {"fact": "shortest_tv_length_before_24w_mm", "lt": 30},
                    {"fact": "ga_days", "lt": "24+0"},
                ]
            },
        },
        {
            "code": "vaginal-progesterone",
            "rule": "SEM-01",
            "strength": "consider",
            "summary": "Consider vaginal progesterone for a length under 30 mm before 24+0.",
            "when": {"fact": "shortest_tv_length_before_24w_mm", "lt": 30},
        },
    ],
    "suppressions": [
        {
            "rule": "SEM-02",
            "reason": "Twins or more - no progesterone.",
            "when": {"not": "singleton"},
            "codes": ["vaginal-progesterone"],
        }
    ],
}


def knowledge_dir(tmp_path: Path, local: dict[str, Any] | None = None) -> Path:
    """The bundled profiles copied into a directory, with a local profile beside them."""
    directory = tmp_path / "knowledge"
    directory.mkdir()
    for path in BUNDLED_PROFILES.glob("*.yaml"):
        shutil.copy(path, directory / path.name)
    (directory / "local-2026.1.yaml").write_text(yaml.safe_dump(local or LOCAL), encoding="utf-8")
    return directory


# --- the bundled profiles ------------------------------------------------------------------------


def test_both_bundled_profiles_load() -> None:
    profiles = bundled_profiles()
    assert list(profiles) == ["acog", "nice"]
    assert load_profiles() == profiles
    for profile_id, profile in profiles.items():
        assert profile.id == profile_id
        assert profile.version == "2026.12"
        assert profile.rules


def test_the_previous_version_stays_loadable() -> None:
    # An assessment stored under 2026.11 must still say which version made it (issue 10).
    for profile_id in ("acog", "nice"):
        old = load_profile(BUNDLED_PROFILES / f"{profile_id}-2026.11.yaml")
        assert (old.id, old.version) == (profile_id, "2026.11")


def test_the_code_list_checked_on_loading_is_the_contracts() -> None:
    assert set(RECOMMENDATION_CODES) == CONTRACT_CODES


def test_a_profile_giving_a_code_outside_the_contract_is_refused(tmp_path: Path) -> None:
    local = copy.deepcopy(LOCAL)
    local["recommendations"][0]["code"] = "refer-to-physiotherapy"
    with pytest.raises(KnowledgeError, match="not a recommendation code of the contract"):
        load_profiles(knowledge_dir(tmp_path, local))


def _assuming(code: str, strength: str) -> dict[str, Any]:
    local = copy.deepcopy(LOCAL)
    rule = local["recommendations"][1]
    rule["code"], rule["strength"] = code, strength
    rule["when"] = {
        "all": [
            {"fact": "shortest_tv_length_before_24w_mm", "lt": 30},
            {"assume": {"not": "dilated"}, "words": "no dilation is assumed"},
        ]
    }
    return local


def test_an_intervention_may_never_rest_on_an_assumption(tmp_path: Path) -> None:
    # CD-01: an assumption may lead away from an intervention, never toward one.
    with pytest.raises(KnowledgeError, match="CD-01"):
        load_profiles(knowledge_dir(tmp_path, _assuming("vaginal-progesterone", "consider")))


def test_a_not_recommended_rule_may_assume_and_says_so(tmp_path: Path) -> None:
    profiles = load_profiles(
        knowledge_dir(tmp_path, _assuming("cerclage-not-recommended", "not-recommended"))
    )
    w = woman("19+0").with_length(22, at="19+0")
    assessment = assess(w.records, w.as_of, [profiles["local"]])
    given = [r for r in assessment.recommendations if r.code == "cerclage-not-recommended"]
    assert [r.assumptions for r in given] == [("no dilation is assumed",)]
    assert any("cervical examination" in need for need in assessment.missing)


FIRED = {"fired": ["cerclage-not-recommended"]}


@pytest.mark.parametrize(
    "when",
    [
        FIRED,
        {"all": ["singleton", FIRED]},
        {"any": ["singleton", {"all": [FIRED]}]},
        {"not": FIRED},
        {"recorded": FIRED},
    ],
    ids=["fired", "in all", "in any of all", "in not", "in recorded"],
)
def test_an_intervention_may_not_depend_on_a_code_given_on_an_assumption(
    tmp_path: Path, when: dict[str, Any]
) -> None:
    local = _assuming("cerclage-not-recommended", "not-recommended")
    local["recommendations"].append(
        {
            "code": "vaginal-progesterone",
            "rule": "SEM-01",
            "strength": "consider",
            "summary": "Progesterone whenever cerclage is not recommended.",
            "when": when,
        }
    )
    with pytest.raises(KnowledgeError, match=r"SEM-01 \(vaginal-progesterone\) depends on"):
        load_profiles(knowledge_dir(tmp_path, local))


def test_a_surveillance_code_may_depend_on_a_code_given_on_an_assumption(tmp_path: Path) -> None:
    local = _assuming("cerclage-not-recommended", "not-recommended")
    local["recommendations"].append(
        {
            "code": "serial-cervical-length",
            "rule": "SEM-01",
            "strength": "recommend",
            "summary": "Scans whenever cerclage is not recommended.",
            "when": {"any": ["singleton", FIRED]},
        }
    )
    assert "local" in load_profiles(knowledge_dir(tmp_path, local))


@pytest.mark.parametrize(
    "when",
    [
        {"not": {"assume": {"not": "dilated"}, "words": "x"}},
        {"recorded": {"assume": {"not": "dilated"}, "words": "x"}},
        {"assume": {"not": "dilated"}},
        {"assume": {"fired": ["urgent-evaluation"]}, "words": "x"},
    ],
)
def test_malformed_assumptions_are_refused(tmp_path: Path, when: dict[str, Any]) -> None:
    local = _assuming("cerclage-not-recommended", "not-recommended")
    local["recommendations"][1]["when"] = when
    with pytest.raises(KnowledgeError, match="assume"):
        load_profiles(knowledge_dir(tmp_path, local))


@pytest.mark.parametrize("profile", bundled_profiles().values(), ids=bundled_profiles().keys())
def test_every_rule_cited_exists_in_the_profiles_sources(profile: GuidelineProfile) -> None:
    for rule in profile.rules:
        for rule_id in rule.rule_ids:
            assert rule_id in profile.sources, f"{rule.code}: {rule_id}"
    for suppression in profile.suppressions:
        assert suppression.rule in profile.sources
    for source in profile.sources.values():
        assert source.citation in profile.citations, source.id
        assert source.words
        assert source.section


@pytest.mark.parametrize("profile", bundled_profiles().values(), ids=bundled_profiles().keys())
def test_bundled_rules_use_contract_codes_known_facts_and_allowed_strengths(
    profile: GuidelineProfile,
) -> None:
    for rule in profile.rules:
        assert rule.code in CONTRACT_CODES
        assert rule.strength in STRENGTHS
        assert rule.provenance in {"verified", "unverified", "derived"}
        for name in rule.when.fact_names():
            assert name in FACT_CATALOGUE or fact_spec(name).meaning, name
        citation = profile.citation_text(rule.rule_ids)
        for rule_id in rule.rule_ids:
            assert rule_id in citation
    for suppression in profile.suppressions:
        assert suppression.codes <= CONTRACT_CODES


@pytest.mark.parametrize("profile", bundled_profiles().values(), ids=bundled_profiles().keys())
def test_cerclage_contraindications_and_twins_cannot_be_made_by_a_shorter_cervix(
    profile: GuidelineProfile,
) -> None:
    # Why shortening a length can never add a suppression (tests/unit/clinical/test_properties).
    contraindicated = [r for r in profile.rules if r.code == "cerclage-contraindicated"]
    assert contraindicated
    for rule in contraindicated:
        assert not {n for n in rule.when.fact_names() if "length" in n}
    for suppression in profile.suppressions:
        assert not {n for n in suppression.when.fact_names() if "length" in n}


# --- a third profile as a data file ---------------------------------------------------------------


def test_a_local_profile_is_added_by_a_file_alone(tmp_path: Path) -> None:
    profiles = load_profiles(knowledge_dir(tmp_path))
    assert list(profiles) == ["acog", "local", "nice"]
    local = profiles["local"]
    w = woman("20+0").with_length(28.0, at="19+0")
    result = assess(w.records, w.as_of, [local])
    assert result.codes("local") == {"refer-preterm-birth-clinic", "vaginal-progesterone"}
    [refer] = [r for r in result.recommendations if r.code == "refer-preterm-birth-clinic"]
    assert refer.rule == "SEM-01"
    assert refer.provenance == "verified"
    assert "St Elsewhere Maternity" in refer.citation
    assert refer.facts["shortest_tv_length_before_24w_mm"] == 28.0


def test_a_local_suppression_withholds_and_says_so(tmp_path: Path) -> None:
    local = load_profiles(knowledge_dir(tmp_path))["local"]
    w = woman("20+0", fetuses=2).with_length(28.0, at="19+0")
    result = assess(w.records, w.as_of, [local])
    assert result.codes("local") == set()
    [held] = result.withheld
    assert (held.code, held.withheld_by) == ("vaginal-progesterone", "SEM-02")


def test_the_newest_version_of_a_profile_is_used(tmp_path: Path) -> None:
    directory = knowledge_dir(tmp_path)
    newer = copy.deepcopy(LOCAL) | {"version": "2026.10", "title": "newer"}
    (directory / "local-2026.10.yaml").write_text(yaml.safe_dump(newer), encoding="utf-8")
    older = copy.deepcopy(LOCAL) | {"version": "2026.9", "title": "older"}
    (directory / "local-2026.9.yaml").write_text(yaml.safe_dump(older), encoding="utf-8")
    assert load_profiles(directory)["local"].title == "newer"


def test_the_cli_assesses_with_a_local_profile(tmp_path: Path) -> None:
    directory = knowledge_dir(tmp_path)
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(fb.dumps(fb.bundle(fb.edd(), fb.cervical_length(28))))
    result = CliRunner().invoke(
        app,
        [
            "assess",
            str(bundle),
            "--knowledge",
            str(directory),
            "--guideline",
            "local",
            "--as-of",
            "2026-02-02",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {r["guideline"] for r in document["recommendations"]} == {"local"}
    assert {r["code"] for r in document["recommendations"]} == {
        "refer-preterm-birth-clinic",
        "vaginal-progesterone",
    }
    assert document["gestational_age"]["weeks"] == 18


def test_the_cli_lists_the_local_profiles_rules(tmp_path: Path) -> None:
    directory = knowledge_dir(tmp_path)
    result = CliRunner().invoke(
        app, ["rules", "--knowledge", str(directory), "--guideline", "local", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    [profile] = json.loads(result.stdout)
    assert profile["profile"] == "local"
    assert [r["rule"] for r in profile["recommendations"]] == ["SEM-01", "SEM-01"]


def test_an_unknown_guideline_is_refused_by_the_cli(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(fb.dumps(fb.bundle(fb.edd())))
    result = CliRunner().invoke(app, ["assess", str(bundle), "--guideline", "local"])
    assert result.exit_code == 2
    assert "--guideline" in result.stderr
    assert "acog, nice" in result.stderr


# --- malformed knowledge files -------------------------------------------------------------------


def _broken(change: str) -> dict[str, Any]:
    data = copy.deepcopy(LOCAL)
    rule = data["recommendations"][0]
    if change == "unknown fact":
        rule["when"]["all"][0] = "singletn"
    elif change == "unknown operator":
        rule["when"]["all"][1] = {"fact": "shortest_tv_length_before_24w_mm", "below": 30}
    elif change == "rule id not in sources":
        rule["rule"] = "SEM-99"
    elif change == "also id not in sources":
        rule["also"] = ["SEM-02", "NICE-01"]
    elif change == "bad strength":
        rule["strength"] = "must"
    elif change == "bad provenance":
        data["sources"]["SEM-01"]["provenance"] = "X"
    elif change == "citation not listed":
        data["sources"]["SEM-01"]["citation"] = "NOWHERE"
    elif change == "bad gestational age":
        rule["when"]["all"][2] = {"fact": "ga_days", "lt": "24+7"}
    elif change == "forbidden code":
        rule["code"] = "start-17ohpc"
    elif change == "suppression rule not in sources":
        data["suppressions"][0]["rule"] = "SEM-77"
    elif change == "missing summary":
        del rule["summary"]
    elif change == "missing profile":
        del data["profile"]
    elif change == "citations not a mapping":
        data["citations"] = ["SEM"]
    elif change == "no recommendations":
        del data["recommendations"]
    elif change == "missing title":
        del data["title"]
    elif change == "missing version":
        del data["version"]
    elif change == "source without words":
        del data["sources"]["SEM-01"]["words"]
    elif change == "source without section":
        del data["sources"]["SEM-01"]["section"]
    elif change == "rule provenance":
        rule["provenance"] = "Q"
    elif change == "window gestational age":
        rule["window"] = {"from": "11", "to": "14+6"}
    elif change == "window days":
        rule["window"] = {"from": "11+7", "to": "14+6"}
    elif change == "scan kind":
        rule["scan"] = {"kind": "weekly", "from": "16+0", "to": "24+0"}
    elif change == "scan from":
        rule["scan"] = {"kind": "serial", "from": 16, "to": "24+0"}
    elif change == "scan to":
        rule["scan"] = {"kind": "serial", "from": "16+0", "to": "24+x"}
    elif change == "scan overdue until":
        rule["scan"] = {"kind": "single", "from": "16+0", "to": "20+0", "overdue_until": "24"}
    elif change == "scan without kind":
        rule["scan"] = {"from": "16+0", "to": "20+0"}
    elif change == "suppression condition":
        data["suppressions"][0]["when"] = {"not": "twins"}
    elif change == "suppression without reason":
        del data["suppressions"][0]["reason"]
    elif change == "suppression without codes":
        del data["suppressions"][0]["codes"]
    elif change == "assumption toward an intervention":
        data["recommendations"][1]["when"] = {
            "assume": {"not": "dilated"},
            "words": "no dilation is assumed",
        }
    return data


@pytest.mark.parametrize(
    ("change", "place", "problem"),
    [
        ("unknown fact", "recommendations[0] (refer-preterm-birth-clinic).when.all[0]", "singletn"),
        (
            "unknown operator",
            "recommendations[0] (refer-preterm-birth-clinic).when.all[1]",
            "below",
        ),
        ("rule id not in sources", "recommendations[0]", "SEM-99"),
        ("also id not in sources", "recommendations[0]", "NICE-01"),
        ("bad strength", "recommendations[0] (refer-preterm-birth-clinic).strength", "must"),
        ("bad provenance", "sources.SEM-01.provenance", "X"),
        ("citation not listed", "sources.SEM-01.citation", "NOWHERE"),
        ("bad gestational age", "when.all[2].lt", "24+7"),
        ("forbidden code", "recommendations[0] (start-17ohpc).code", "never"),
        ("suppression rule not in sources", "suppressions[0]", "SEM-77"),
        ("missing summary", "recommendations[0]", "summary"),
        ("missing profile", "local-2026.1.yaml: missing 'profile'", "profile"),
        (
            "citations not a mapping",
            "local-2026.1.yaml: 'citations' must be a mapping, got list",
            "list",
        ),
        ("no recommendations", "local-2026.1.yaml: missing 'recommendations'", "recommendations"),
        ("missing title", "local-2026.1.yaml: missing 'title'", "title"),
        ("missing version", "local-2026.1.yaml: missing 'version'", "version"),
        ("source without words", "sources.SEM-01: missing 'words'", "words"),
        ("source without section", "sources.SEM-01: missing 'section'", "section"),
        ("rule provenance", "(refer-preterm-birth-clinic).provenance: expected S, M or D", "S"),
        ("window gestational age", "(refer-preterm-birth-clinic).window.from", "'11'"),
        ("window days", "(refer-preterm-birth-clinic).window.from: days must be 0-6", "11+7"),
        ("scan kind", "(refer-preterm-birth-clinic).scan.kind: expected serial or single", "kind"),
        ("scan from", "(refer-preterm-birth-clinic).scan.from", "16"),
        ("scan to", "(refer-preterm-birth-clinic).scan.to", "24+x"),
        ("scan overdue until", "(refer-preterm-birth-clinic).scan.overdue_until", "'24'"),
        ("scan without kind", "(refer-preterm-birth-clinic).scan: missing 'kind'", "kind"),
        ("suppression condition", "suppressions[0].when.not", "twins"),
        ("suppression without reason", "suppressions[0]: missing 'reason'", "reason"),
        ("suppression without codes", "suppressions[0]: missing 'codes'", "codes"),
        (
            "assumption toward an intervention",
            "recommendations[1] (vaginal-progesterone).when",
            "CD-01",
        ),
    ],
)
def test_a_malformed_knowledge_file_names_the_file_and_the_place(
    tmp_path: Path, change: str, place: str, problem: str
) -> None:
    path = tmp_path / "local-2026.1.yaml"
    path.write_text(yaml.safe_dump(_broken(change)), encoding="utf-8")
    with pytest.raises(KnowledgeError) as raised:
        load_profile(path)
    message = str(raised.value)
    assert message.startswith("local-2026.1.yaml: ")
    assert place in message
    assert problem in message


def test_a_malformed_file_among_good_ones_stops_loading(tmp_path: Path) -> None:
    directory = knowledge_dir(tmp_path, _broken("bad strength"))
    with pytest.raises(KnowledgeError, match=r"local-2026\.1\.yaml"):
        load_profiles(directory)


def test_the_cli_reports_a_malformed_knowledge_file_and_exits_2(tmp_path: Path) -> None:
    directory = knowledge_dir(tmp_path, _broken("unknown fact"))
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(fb.dumps(fb.bundle(fb.edd())))
    result = CliRunner().invoke(app, ["assess", str(bundle), "--knowledge", str(directory)])
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "local-2026.1.yaml" in line
    assert "singletn" in line


def test_a_file_that_is_not_yaml_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken-1.yaml"
    path.write_text("profile: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^broken-1\.yaml: not valid YAML"):
        load_profile(path)


def test_a_file_that_is_not_a_mapping_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "list-1.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^list-1\.yaml: expected a mapping"):
        load_profile(path)


def test_a_directory_without_profiles_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="no guideline profiles"):
        load_profiles(tmp_path)


# --- the course, the choice and the short names as data ------------------------------------------

COURSE = {
    "in_place": "on_vaginal_progesterone",
    "start_until": {"ga": "24+0", "rule": "SEM-01"},
    "continue_until": {"ga": "34+0", "rule": "SEM-01", "words": "continue until 34+0"},
    "review_from": {"ga": "37+0", "rule": "SEM-02", "words": "the preterm period is over"},
}


def _with(tmp_path: Path, **changes: Any) -> Path:
    local = copy.deepcopy(LOCAL)
    local.update(changes)
    tmp_path.mkdir(parents=True, exist_ok=True)
    return knowledge_dir(tmp_path, local)


def test_a_course_is_read_with_its_bounds_and_rules(tmp_path: Path) -> None:
    profile = load_profiles(_with(tmp_path, courses={"vaginal-progesterone": COURSE}))["local"]
    course = profile.courses["vaginal-progesterone"]
    assert (course.code, course.in_place) == ("vaginal-progesterone", "on_vaginal_progesterone")
    assert (course.start_until_days, course.start_rule) == (168, "SEM-01")
    assert (course.continue_until_days, course.continue_rule) == (238, "SEM-01")
    assert course.continue_words == "continue until 34+0"
    assert (course.review_from_days, course.review_rule) == (259, "SEM-02")
    assert course.review_words == "the preterm period is over"
    without_review = {k: v for k, v in COURSE.items() if k != "review_from"}
    plain = load_profiles(_with(tmp_path / "b", courses={"vaginal-progesterone": without_review}))
    assert plain["local"].courses["vaginal-progesterone"].review_from_days is None


@pytest.mark.parametrize(
    ("courses", "message"),
    [
        ({"bed-rest": COURSE}, "not a recommendation code"),
        ({"vaginal-progesterone": {**COURSE, "in_place": "on_aspirin"}}, "unknown fact"),
        (
            {"vaginal-progesterone": {k: v for k, v in COURSE.items() if k != "in_place"}},
            "in_place",
        ),
        (
            {"vaginal-progesterone": {**COURSE, "start_until": {"ga": "24+0", "rule": "X-9"}}},
            "not among the sources",
        ),
        (
            {"vaginal-progesterone": {**COURSE, "continue_until": {"ga": "34", "rule": "SEM-01"}}},
            "gestational age",
        ),
    ],
)
def test_a_malformed_course_is_refused(
    tmp_path: Path, courses: dict[str, Any], message: str
) -> None:
    with pytest.raises(KnowledgeError, match=message):
        load_profiles(_with(tmp_path, courses=courses))


def test_a_choice_needs_a_fact_and_words(tmp_path: Path) -> None:
    local = copy.deepcopy(LOCAL)
    local["recommendations"][1]["choice"] = {"made_by": "cerclage_in_situ", "words": "a stitch"}
    rule = load_profiles(knowledge_dir(tmp_path, local))["local"].rules[1]
    assert (rule.choice_made_by, rule.choice_words) == ("cerclage_in_situ", "a stitch")
    for bad in ({"made_by": "stitched"}, {"made_by": "cerclage_in_situ"}):
        local["recommendations"][1]["choice"] = bad
        where = tmp_path / str(len(bad)) / bad["made_by"]
        where.mkdir(parents=True)
        with pytest.raises(KnowledgeError, match="choice"):
            load_profiles(knowledge_dir(where, local))


def test_short_names_must_name_a_citation(tmp_path: Path) -> None:
    profile = load_profiles(_with(tmp_path, short_names={"SEM": "St E, 2026"}))["local"]
    assert profile.short_reference("SEM-01") == "St E, 2026"
    assert load_profiles(_with(tmp_path / "b"))["local"].short_reference("SEM-01") == "SEM"
    with pytest.raises(KnowledgeError, match=r"short_names\.NOPE"):
        load_profiles(_with(tmp_path / "c", short_names={"NOPE": "x"}))


def test_scan_overdue_fields_are_read(tmp_path: Path) -> None:
    local = copy.deepcopy(LOCAL)
    local["recommendations"][0]["scan"] = {
        "kind": "serial",
        "from": "16+0",
        "to": "24+0",
        "interval_days": 14,
        "overdue_after_days": 28,
        "overdue_until": "24+6",
        "note": " every  2-4 weeks ",
    }
    scan = load_profiles(knowledge_dir(tmp_path, local))["local"].rules[0].scan
    assert scan is not None
    assert (scan.interval_days, scan.overdue_after_days, scan.overdue_until_days) == (14, 28, 174)
    assert scan.note == "every 2-4 weeks"
