"""`cervixwatch assess` (DESIGN.md contract): JSON out and exit 0 for a valid bundle; exit 2
and one clear line on stderr, naming the resource and field, for an invalid one."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cervixwatch.cli import app
from cervixwatch.knowledge import BUNDLED_PROFILES
from cervixwatch.knowledge import codes as c
from tests import fhir_builders as fb

AS_OF = "2026-02-02"
CONTRACT_KEYS = {
    "patient",
    "as_of",
    "gestational_age",
    "recommendations",
    "missing",
    "risk",
    "next_scan_due",
}
RECOMMENDATION_KEYS = {
    "code",
    "guideline",
    "strength",
    "rule",
    "citation",
    "provenance",
    "summary",
    "facts",
}
STRENGTHS = {"recommend", "offer", "consider", "shared-decision", "not-recommended"}
PROVENANCES = {"verified", "unverified", "derived"}


def write(tmp_path: Path, content: bytes | dict[str, Any], name: str = "bundle.json") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else fb.dumps(content))
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def console_script() -> list[str]:
    """The installed `cervixwatch` command, as a user runs it."""
    script = Path(sys.executable).parent / "cervixwatch"
    if script.exists():
        return [str(script)]
    found = shutil.which("cervixwatch")
    assert found, "the cervixwatch console script is not installed"
    return [found]


def test_version_says_which_build_runs() -> None:
    """The suite runs the source (tests/compiled runs the compiled build's own --version)."""
    result = run("--version")
    assert result.exit_code == 0, result.output
    assert result.output == "cervixwatch 0.1.0, source (not compiled)\n"
    assert "--version" in run("--help").output


# --- a valid bundle -------------------------------------------------------------------------------


def test_a_valid_bundle_prints_the_contract_json(tmp_path: Path) -> None:
    bundle = write(tmp_path, fb.v01_bundle())
    result = run("assess", str(bundle), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = json.loads(result.stdout)
    assert set(document) >= CONTRACT_KEYS
    assert document["patient"] == "p1"
    assert document["as_of"] == AS_OF
    assert (document["gestational_age"]["weeks"], document["gestational_age"]["days"]) == (18, 2)
    assert isinstance(document["missing"], list)
    assert document["risk"]["tier"] == "high"
    assert document["recommendations"]
    for recommendation in document["recommendations"]:
        assert set(recommendation) >= RECOMMENDATION_KEYS
        assert recommendation["guideline"] in {"acog", "nice"}
        assert recommendation["strength"] in STRENGTHS
        assert recommendation["provenance"] in PROVENANCES
        assert isinstance(recommendation["facts"], dict)
    codes = {(r["guideline"], r["code"]) for r in document["recommendations"]}
    assert ("acog", "ultrasound-indicated-cerclage") in codes
    assert ("nice", "ultrasound-indicated-cerclage") in codes


def test_next_scan_due_is_an_iso_date_when_a_scan_is_planned(tmp_path: Path) -> None:
    # Prior sPTB, no length yet, 15+0 on 2026-01-10: the first serial scan is due at 16+0.
    bundle = write(tmp_path, fb.bundle(fb.edd(), fb.fetus_count(1), fb.prior_pregnancy()))
    result = run("assess", str(bundle), "--as-of", "2026-01-10", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["gestational_age"] == {"weeks": 15, "days": 0, "text": "15+0"}
    assert document["next_scan_due"] == "2026-01-17"


def test_without_an_edd_the_json_says_so(tmp_path: Path) -> None:
    bundle = write(tmp_path, fb.bundle(fb.cervical_length(22)))
    result = run("assess", str(bundle), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["gestational_age"] is None
    assert document["next_scan_due"] is None
    assert any("EDD" in need for need in document["missing"])


@pytest.mark.parametrize("guideline", ["acog", "nice"])
def test_one_guideline_can_be_chosen(tmp_path: Path, guideline: str) -> None:
    bundle = write(tmp_path, fb.v01_bundle())
    result = run("assess", str(bundle), "-g", guideline, "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {r["guideline"] for r in document["recommendations"]} == {guideline}


def test_the_text_format_shows_the_gestational_age(tmp_path: Path) -> None:
    bundle = write(tmp_path, fb.v01_bundle())
    result = run("assess", str(bundle), "--as-of", AS_OF, "--format", "text")
    assert result.exit_code == 0, result.output
    assert "18+2" in result.stdout


def test_the_installed_command_assesses_a_bundle(tmp_path: Path) -> None:
    bundle = write(tmp_path, fb.v01_bundle())
    done = subprocess.run(
        [*console_script(), "assess", str(bundle), "--as-of", AS_OF, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert set(json.loads(done.stdout)) >= CONTRACT_KEYS


# --- invalid bundles and options -----------------------------------------------------------------


def _with_patient_birth_date(date: str) -> dict[str, Any]:
    document = fb.bundle(fb.edd())
    document["entry"][0]["resource"]["birthDate"] = date
    return document


INVALID: dict[str, tuple[bytes | dict[str, Any], list[str]]] = {
    "not JSON": (b'{"resourceType": "Bundle",', ["not valid JSON"]),
    "not a Bundle": (fb.patient(), ["resourceType", "'Bundle'", "'Patient'"]),
    "no Patient": (fb.bundle(fb.edd(), with_patient=False), ["Bundle", "no Patient"]),
    "length in kg": (
        fb.bundle(fb.cervical_length(2.2, unit="kg")),
        ["Observation/cl (entry 1)", "valueQuantity.code", "'kg'"],
    ),
    "length not a number": (
        fb.bundle(fb.cervical_length("twenty")),
        ["Observation/cl (entry 1)", "valueQuantity.value", "'twenty'"],
    ),
    "31 February": (
        fb.bundle(fb.cervical_length(22, "2026-02-31")),
        ["Observation/cl (entry 1)", "effectiveDateTime", "2026-02-31"],
    ),
    "EDD of 31 February": (
        fb.bundle(fb.edd("2026-02-31")),
        ["Observation/edd (entry 1)", "valueDateTime", "2026-02-31"],
    ),
    "prior gestation in kg": (
        fb.bundle(fb.prior_pregnancy(weeks=30, unit="kg")),
        ["Observation/prior (entry 1)", "component[0].valueQuantity.code"],
    ),
    "bad Bundle.type": (fb.bundle(bundle_type="history"), ["Bundle.type", "'history'"]),
}


@pytest.mark.parametrize(("content", "words"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_bundle_exits_2_with_one_line_naming_resource_and_field(
    tmp_path: Path, content: bytes | dict[str, Any], words: list[str]
) -> None:
    bundle = write(tmp_path, content)
    result = run("assess", str(bundle), "--as-of", AS_OF, "--format", "json")
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"cervixwatch: invalid bundle {bundle}: ")
    for word in words:
        assert word in line


@pytest.mark.parametrize("case", ["length in kg", "31 February"])
def test_the_installed_command_exits_2_on_an_invalid_bundle(tmp_path: Path, case: str) -> None:
    content, words = INVALID[case]
    bundle = write(tmp_path, content)
    done = subprocess.run(
        [*console_script(), "assess", str(bundle), "--as-of", AS_OF],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    for word in words:
        assert word in line


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("assess", str(tmp_path / "nowhere.json"), "--as-of", AS_OF)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "cannot read" in line


@pytest.mark.parametrize("as_of", ["2026-02-31", "02/02/2026", "yesterday"])
def test_a_bad_as_of_exits_2(tmp_path: Path, as_of: str) -> None:
    bundle = write(tmp_path, fb.v01_bundle())
    result = run("assess", str(bundle), "--as-of", as_of)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "--as-of" in line


def test_a_knowledge_file_that_is_not_yaml_gives_one_line(tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    for path in BUNDLED_PROFILES.glob("*.yaml"):
        shutil.copy(path, knowledge / path.name)
    (knowledge / "broken-1.yaml").write_text("profile: [unclosed\n", encoding="utf-8")
    bundle = write(tmp_path, fb.v01_bundle())
    result = run("assess", str(bundle), "--knowledge", str(knowledge))
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert "broken-1.yaml" in line


# --- the clinician's text (issue 10, item 10) ----------------------------------------------------

#: Wide enough that no table cell wraps, so a test can look for a phrase as a whole.
WIDE = {"COLUMNS": "1000"}


def run_text(bundle: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["assess", str(bundle), "--format", "text", *args], env=WIDE)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def test_the_text_writes_facts_in_clinical_words_and_units(tmp_path: Path) -> None:
    out = run_text(write(tmp_path, fb.v01_bundle()), "--as-of", AS_OF)
    assert "ga_days" not in out
    assert "_mm=" not in out
    assert "GA 18+2" in out
    assert "shortest transvaginal length measured before 24+0: 22 mm on 2026-02-02 (18+2)" in out
    assert "previous spontaneous preterm birth before 34+0: yes" in out
    assert "cerclage in situ: no" in out


def test_a_length_with_a_comparator_keeps_it(tmp_path: Path) -> None:
    bundle = fb.bundle(
        fb.edd(), fb.fetus_count(1), fb.prior_pregnancy(), fb.cervical_length(10, comparator="<")
    )
    out = run_text(write(tmp_path, bundle), "--as-of", AS_OF)
    assert "shortest transvaginal length measured before 24+0: <10 mm on 2026-02-02" in out
    assert "2026-02-02 (18+2) <10 mm transvaginal" in out


def test_the_text_gives_short_references_and_each_full_citation_once_numbered(
    tmp_path: Path,
) -> None:
    out = run_text(write(tmp_path, fb.v01_bundle()), "--as-of", AS_OF)
    rows, _, references = out.partition("\nReferences\n")
    assert references, "no numbered references at the end"
    numbers = {
        text: int(n)
        for text, n in re.findall(r"(ACOG PB 142, 2014|NICE NG25, 2022) \[(\d+)\]", rows)
    }
    assert set(numbers) == {"ACOG PB 142, 2014", "NICE NG25, 2022"}
    assert f"[{numbers['ACOG PB 142, 2014']}] American College of Obstetricians" in references
    assert f"[{numbers['NICE NG25, 2022']}] National Institute for Health and Care" in references
    # The full citation is printed once, at the end, not in the rows.
    full = "Practice Bulletin No. 142: Cerclage for the management of cervical insufficiency"
    assert out.count(full) == 1
    assert full in references
    listed = [int(n) for n in re.findall(r"^\s*\[(\d+)\] ", references, flags=re.MULTILINE)]
    assert listed == list(range(1, len(listed) + 1))


def test_an_assumption_is_shown_beside_its_recommendation(tmp_path: Path) -> None:
    # No previous sPTB (a term birth), 18 mm at 20+0, no cervical exam recorded (CD-01).
    bundle = fb.bundle(
        fb.edd(),
        fb.fetus_count(1),
        fb.prior_pregnancy(weeks=39.0),
        fb.cervical_length(18, "2026-02-10"),
    )
    out = run_text(write(tmp_path, bundle), "--as-of", "2026-02-10", "-g", "acog")
    [row] = [line for line in out.splitlines() if "cerclage-not-recommended" in line]
    assert "NOT-RECOMMENDED cerclage-not-recommended" in row
    assert "Assumes: no cervical dilation is assumed: no cervical exam is recorded" in out
    assert "dilation of 1 cm or more on the latest exam: unknown" in out
    assert "a cervical examination (dilation and whether membranes are exposed)" in out


def test_an_in_place_treatment_is_never_shown_as_an_offer(tmp_path: Path) -> None:
    bundle = fb.bundle(
        fb.edd(),
        fb.fetus_count(1),
        fb.prior_pregnancy(),
        fb.cervical_length(22),
        fb.dilation(0),
        fb.membranes_exposed(False),
        fb.medication_request(c.VAGINAL_PROGESTERONE, authored="2026-02-03"),
    )
    out = run_text(write(tmp_path, bundle), "--as-of", "2026-02-10", "-g", "nice")
    assert "IN PLACE vaginal-progesterone" in out
    assert "OFFER vaginal-progesterone" not in out
    assert "Offer a choice of prophylactic vaginal progesterone" not in out
    assert (
        "Vaginal progesterone since 18+3 (2026-02-03): the current treatment, not an offer" in out
    )
    treatments = out.partition("Current treatments")[2].partition("Cervical lengths")[0]
    assert "vaginal progesterone since 18+3 (2026-02-03)" in treatments


def test_a_declined_offer_shows_as_declined(tmp_path: Path) -> None:
    bundle = fb.bundle(
        fb.edd(),
        fb.fetus_count(1),
        fb.prior_pregnancy(),
        fb.cervical_length(22),
        fb.dilation(0),
        fb.membranes_exposed(False),
        fb.declined_medication("2026-02-04"),
    )
    out = run_text(write(tmp_path, bundle), "--as-of", "2026-02-10", "-g", "nice")
    [row] = [line for line in out.splitlines() if "OFFER vaginal-progesterone" in line]
    assert "DECLINED" in row
    assert "Offered and declined on 18+4 (2026-02-04)" in out


def test_a_missed_screen_shows_as_missed_in_the_row_and_the_scan_plan(tmp_path: Path) -> None:
    # No risk factor, no length at all, seen first at 25+0: the anatomy-scan screen was missed.
    bundle = fb.bundle(fb.edd(), fb.fetus_count(1), fb.prior_pregnancy(weeks=39.0))
    out = run_text(write(tmp_path, bundle), "--as-of", "2026-03-21", "-g", "acog")
    [row] = [line for line in out.splitlines() if "single-cervical-length-screen" in line]
    assert "MISSED" in row
    plan = out.partition("Scan plan")[2]
    assert "MISSED" in plan
    assert "Missed: no transvaginal length in 18+0-22+6" in plan


def test_the_risk_tier_is_labelled_beside_the_current_findings(tmp_path: Path) -> None:
    bundle = fb.bundle(
        fb.edd(), fb.fetus_count(1), fb.prior_pregnancy(weeks=39.0), fb.cervical_length(18)
    )
    out = run_text(write(tmp_path, bundle), "--as-of", AS_OF)
    assert (
        "Saving Babies' Lives v3.1 history tier: low (SBL-02, SBL-03). Current findings: short"
        " cervix: shortest transvaginal length 18 mm"
    ) in out


# --- `cervixwatch rules` -------------------------------------------------------------------------


def test_rules_json_keeps_its_keys_and_adds_assumptions_and_courses() -> None:
    result = run("rules", "--format", "json")
    assert result.exit_code == 0, result.output
    document = {p["profile"]: p for p in json.loads(result.stdout)}
    for profile in document.values():
        assert set(profile) >= {"profile", "version", "title", "recommendations", "suppressions"}
        assert isinstance(profile["courses"], list)
        for r in profile["recommendations"]:
            assert set(r) >= {"code", "rule", "rules", "strength", "provenance", "summary"}
            assert {"sources", "assumptions"} <= set(r)
            assert isinstance(r["assumptions"], list)
    [smfm70_06] = [r for r in document["acog"]["recommendations"] if r["rule"] == "SMFM70-06"]
    assert smfm70_06["assumptions"] == [
        "no cervical dilation is assumed: no cervical exam is recorded"
    ]
    courses = {p: {c["code"]: c for c in document[p]["courses"]} for p in ("acog", "nice")}
    nice = courses["nice"]["vaginal-progesterone"]
    assert nice["in_place"] == "on_vaginal_progesterone"
    assert (nice["start_until"]["ga"], nice["start_until"]["rule"]) == ("24+0", "NICE-04")
    assert (nice["continue_until"]["ga"], nice["continue_until"]["rule"]) == ("34+0", "NICE-04")
    assert (nice["review_from"]["ga"], nice["review_from"]["rule"]) == ("37+0", "CW-TERM")
    assert courses["acog"]["vaginal-progesterone"]["start_until"]["ga"] == "23+6"


def table_rows(out: str) -> list[str]:
    """The rows of the tables in a text output, each as one string of its lines."""
    return [row for row in re.split(r"^[├┡└].*$", out, flags=re.MULTILINE) if row.strip()]


def test_rules_text_shows_each_assumption_beside_its_rule_and_each_course() -> None:
    result = CliRunner().invoke(app, ["rules"], env=WIDE)
    assert result.exit_code == 0, result.output
    out = str(result.stdout)
    [row] = [row for row in table_rows(out) if "Assumes: no cervical dilation" in row]
    assert "Assumes: no cervical dilation is assumed: no cervical exam is recorded" in row
    assert "cerclage-not-recommended" in row
    assert "SMFM70-06 + ACOG142-05" in row
    [courses] = [row for row in table_rows(out) if "Courses of treatment (nice" in row]
    assert "vaginal-progesterone" in out.partition("Courses of treatment (nice")[2]
    assert "may be started up to 24+0 (NICE-04)" in out
    assert "34+0: continue until 34+0" in out
    assert "37+0: the preterm period is over (CW-TERM)" in out
    assert courses
