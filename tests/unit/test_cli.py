"""`cervixwatch assess` (DESIGN.md contract): JSON out and exit 0 for a valid bundle; exit 2
and one clear line on stderr, naming the resource and field, for an invalid one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cervixwatch.cli import app
from cervixwatch.knowledge import BUNDLED_PROFILES
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
