"""`cervixwatch validate-model` (issue 15, part 4): a model kept as data against a cohort's
outcomes. A hand-built cohort whose answer is known by hand, a synthetic registry drawn from
Kazemier's figures that must validate them, and the command and its report as a user runs it."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from cervixwatch.app.model_report import report_html
from cervixwatch.app.model_validation import validate
from cervixwatch.app.population import run_population
from cervixwatch.app.population_rows import _previous_birth_columns
from cervixwatch.app.risk_models import bundled_models
from cervixwatch.cli import app
from cervixwatch.clinical.gestation import ga, ga_days_on
from cervixwatch.clinical.records import (
    LengthMethod,
    Onset,
    PartialDate,
    PregnancyRecords,
    PriorOutcome,
    PriorPregnancy,
)
from cervixwatch.cohort import iter_cohort
from cervixwatch.cohort.bulk import write_bulk
from cervixwatch.knowledge import bundled_evidence, bundled_profiles
from tests.population.audit_rows import parquet_of, row

EVIDENCE = bundled_evidence()
MODELS = {m.id: m for m in bundled_models(EVIDENCE)}
AS_OF = dt.date(2026, 12, 1)
REGISTRY = 1500


def _twin(n: int, mm: float | None, ended: str | None, sptb: bool = False, **values: Any) -> Any:
    lengths = [] if mm is None else [{"ga_days": ga("21+0"), "mm": mm, "comparator": None}]
    outcome = {}
    if ended is not None:
        outcome = {
            "ended_on": "2026-05-01",
            "ended_ga_days": ga(ended),
            "outcome": "live-birth",
            "sptb": sptb,
        }
    return row(n, fetuses=2, lengths=lengths, **outcome, **values)


def test_a_cohort_whose_answer_is_known_by_hand(tmp_path: Path) -> None:
    """Five twin pregnancies validated (two spontaneous births before 32 weeks), a singleton
    and a pregnancy under way left out, each woman counted once whatever her profiles."""
    rows = [
        _twin(1, 15, "30+0", sptb=True),  # short, event
        _twin(2, 18, "39+0"),  # short, no event
        _twin(3, 35, "28+0", sptb=True),  # long, event
        _twin(4, 40, "38+0"),
        _twin(5, 38, "40+0"),
        row(6, fetuses=1, lengths=[{"ga_days": ga("21+0"), "mm": 10, "comparator": None}]),
        _twin(7, 12, None),
    ]
    # Every woman has a row per profile: counted once.
    both = rows + [{**r, "profile": "acog"} for r in rows]
    result = validate(MODELS["conde-agudelo-2010-twins-32"], parquet_of(tmp_path, both))
    assert (result.women, result.n, result.events) == (7, 5, 2)
    assert result.excluded == {
        "outside the model's range: singleton": 1,
        "pregnancy not ended: no outcome yet": 1,
    }
    assert result.pretest == pytest.approx(0.4)
    # Pairs (event, no event): short-short 1/2, short-long 1 + 1, long-short 0,
    # long-long 1/2 + 1/2: 3.5 of 6.
    assert result.auc is not None
    assert result.auc.value == pytest.approx(3.5 / 6)
    assert result.band_test is not None
    assert result.band_test.sensitivity.value == pytest.approx(1 / 2)
    assert result.band_test.specificity.value == pytest.approx(2 / 3)
    odds = 0.4 / 0.6
    assert [g.mean_risk for g in result.groups] == pytest.approx(
        [odds * 0.64 / (1 + odds * 0.64), odds * 10.1 / (1 + odds * 10.1)]
    )
    assert [(g.n, g.events) for g in result.groups] == [(3, 1), (2, 1)]
    assert result.cautions[0].startswith("Only 2 women had the outcome")


def test_a_cohort_without_the_outcome_has_nothing_to_validate(tmp_path: Path) -> None:
    rows = [_twin(1, 15, "39+0"), _twin(2, 30, "38+0")]
    result = validate(MODELS["conde-agudelo-2010-twins-32"], parquet_of(tmp_path, rows))
    assert (result.n, result.events, result.auc) == (2, 0, None)
    assert result.cautions == ("Nothing to validate: no woman had the outcome.",)
    html = report_html(result, generated_at=dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    assert "Nothing to validate: no woman had the outcome." in html
    assert "Nothing to plot" in html


def test_a_parquet_of_an_older_run_is_refused_naming_what_it_lacks(tmp_path: Path) -> None:
    old = tmp_path / "assessments.parquet"
    duckdb.sql(f"COPY (SELECT 'w1' AS patient_id, 'nice' AS profile) TO '{old}' (FORMAT parquet)")
    with pytest.raises(ValueError, match="made by an older CervixWatch, without fetuses, error"):
        validate(MODELS["kazemier-2014-recurrence"], tmp_path)
    with pytest.raises(ValueError, match="no population run here"):
        validate(MODELS["kazemier-2014-recurrence"], tmp_path / "elsewhere")


# --- her last birth ---------------------------------------------------------------------------


def _birth(ended: PartialDate | None, days: int, onset: Onset) -> PriorPregnancy:
    return PriorPregnancy(ended, PriorOutcome.LIVE_BIRTH, days, onset, fetuses=1)


def _history(*priors: PriorPregnancy) -> dict[str, Any]:
    records = PregnancyRecords(patient_id="w1", edd=dt.date(2027, 3, 1), prior_pregnancies=priors)
    return _previous_birth_columns(records)


def test_her_last_birth_is_the_latest_by_date_and_a_loss_is_not_a_birth() -> None:
    early = _birth(PartialDate(2019, 4), ga("30+0"), Onset.PPROM)
    late = _birth(PartialDate(2022, 1, 5), ga("39+0"), Onset.SPONTANEOUS_LABOUR)
    loss = PriorPregnancy(PartialDate(2024, 2), PriorOutcome.MISCARRIAGE, ga("10+0"), None)
    assert _history(late, early, loss) == {
        "previous_births": 2,
        "previous_birth_ga_days": ga("39+0"),
        "previous_birth_onset": "spontaneous-labour",
        "previous_birth_fetuses": 1,
    }
    assert _history() == {"previous_births": 0}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (PartialDate(2021), PartialDate(2021, 6)),  # the same year, one month unknown
        (PartialDate(2021, 6), PartialDate(2021, 6, 3)),
        (PartialDate(2021, 6, 3), PartialDate(2021, 6, 3)),
        (None, PartialDate(2021, 6, 3)),
    ],
)
def test_when_the_dates_cannot_order_her_births_the_last_is_unknown(
    first: PartialDate | None, second: PartialDate
) -> None:
    columns = _history(
        _birth(first, ga("30+0"), Onset.PPROM), _birth(second, ga("39+0"), Onset.PPROM)
    )
    assert columns == {"previous_births": 2}


# --- a synthetic registry -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory: Path = tmp_path_factory.mktemp("registry")
    write_bulk(iter_cohort(REGISTRY, 5, AS_OF, active=300), directory / "export", AS_OF)
    run = run_population(
        directory / "export",
        directory / "out",
        AS_OF,
        list(bundled_profiles().values()),
        workers=1,
    )
    return run.parquet.parent


def test_the_rows_carry_her_transvaginal_lengths(cohort: Path) -> None:
    found = dict(
        duckdb.sql(
            f"SELECT patient_id, lengths FROM read_parquet('{cohort}/assessments.parquet') "
            "WHERE profile = 'nice'"
        ).fetchall()
    )
    checked = 0
    for patient in iter_cohort(200, 5, AS_OF, active=300):
        records = patient.records
        assert records.patient_id in found
        if records.edd is None:
            continue
        expected = sorted(
            (ga_days_on(records.edd, m.measured_on), m.length_mm)
            for m in records.cervical_lengths
            if m.method == LengthMethod.TRANSVAGINAL
        )
        got = [(m["ga_days"], m["mm"]) for m in found[records.patient_id]]
        assert got == expected
        checked += bool(expected)
    assert checked > 20


def test_a_registry_drawn_from_kazemiers_figures_validates_them(cohort: Path) -> None:
    """The synthetic registry draws each pregnancy's outcome from Kazemier's absolute risks
    (`cohort.history`): validated against the same table, the risks it predicts are those
    observed (calibration-in-the-large's interval holds 0), and every woman is counted once,
    validated or left out with her reason."""
    result = validate(MODELS["kazemier-2014-recurrence"], cohort)
    assert result.women == REGISTRY
    assert result.n + sum(result.excluded.values()) == REGISTRY
    assert result.excluded["pregnancy not ended: no outcome yet"] > 0
    assert result.n > 200
    assert result.events > 30
    assert result.calibration is not None
    intercept = result.calibration.intercept
    assert intercept.low < 0 < intercept.high
    mean_predicted = sum(g.mean_risk * g.n for g in result.groups) / result.n
    assert mean_predicted == pytest.approx(result.events / result.n, abs=0.04)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_the_command_writes_each_models_report(cohort: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    done = _cli("validate-model", "--cohort", str(cohort), "--model", "all", "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "kazemier-2014-recurrence: " in done.output
    report = json.loads((out / "kazemier-2014-recurrence-validation.json").read_text())
    assert report["women"] == REGISTRY
    assert report["model"]["citation"].startswith("Kazemier BM et al.")
    html = (out / "kazemier-2014-recurrence-validation.html").read_text()
    # Self-contained: two inline charts, nothing fetched, nothing run.
    assert html.count("<svg ") == 2
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<script" not in html
    text = "".join(
        page.extract_text()
        for page in PdfReader(out / "kazemier-2014-recurrence-validation.pdf").pages
    )
    assert "Validation of a risk model" in text
    assert "Kazemier BM et al." in text


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("no-such-model", "--model no-such-model: no such file, nor a bundled model"),
        (str(Path(__file__).parent / "models" / "andrade-2023.yaml"), None),
    ],
)
def test_the_command_names_what_is_wrong(
    cohort: Path, tmp_path: Path, model: str, message: str | None
) -> None:
    done = _cli(
        "validate-model",
        "--cohort",
        str(cohort),
        "--model",
        model,
        "--out",
        str(tmp_path),
        "--no-pdf",
    )
    if message is None:
        # A model needing what CervixWatch does not record: every woman is left out, saying
        # why, and the report says there is nothing to validate.
        assert done.exit_code == 0, done.output
        report = json.loads((tmp_path / "andrade-2023-validation.json").read_text())
        assert report["n"] == 0
        [(reason, count)] = report["excluded"].items()
        assert reason.startswith("not recorded: cervical_length_to_uterocervical_angle_index")
        assert count == REGISTRY
        return
    assert done.exit_code == 2
    assert message in done.output
