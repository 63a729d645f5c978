"""Risk models kept as data (issue 15, part 4): a published model as a YAML file with its
citation, its outcome and its valid range, read here and applied to the population's rows
(`app.population_rows`) by `cervixwatch validate-model` (`app.model_validation`).

Three kinds, as the sources of shared/clinical/risk-evidence.md give them:
- `logistic`: an intercept and terms, each a coefficient on a predictor (or on a condition of
  it: "length below 30.9 mm"); a term may carry the odds ratio printed beside it, and its
  coefficient must then be ln(OR) (risk-evidence.md (b): the check that catches transcription
  errors).
- `likelihood_ratio`: bands of the cervical length, each with a likelihood ratio. A ratio
  needs a pre-test probability; with `pretest: cohort` it is the validation cohort's own
  prevalence, never another paper's figure (risk-evidence.md (a) 4).
- `risk_table`: absolute risks by this pregnancy's plurality and her last birth, read from the
  evidence file the clinical pages show (Kazemier 2014), so the two cannot disagree.

A row outside the model's valid range (plurality, the window of the length it reads) or
without what the model reads gets no risk but the reason: a model is never applied outside
the population it was built on, and an unknown value is never read as a normal one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

import yaml

from cervixwatch.clinical.gestation import ga, ga_text
from cervixwatch.clinical.history import SPONTANEOUS_ONSETS, TERM
from cervixwatch.clinical.records import Onset
from cervixwatch.clinical.risk import RiskEvidence

__all__ = [
    "BUNDLED_MODELS",
    "Applicable",
    "LengthWindow",
    "ModelKind",
    "NotApplicable",
    "RiskModel",
    "RiskModelError",
    "applicability",
    "bundled_models",
    "load_model",
    "outcome_of",
    "risk_of",
]

BUNDLED_MODELS: Final = Path(__file__).parents[1] / "knowledge" / "risk_models"

#: Predictors CervixWatch's rows hold. A logistic model may name others (funneling, weight):
#: it loads, and says it cannot be applied to this cohort because they are not recorded.
RECORDED_PREDICTORS: Final = frozenset({"length_mm", "prior_sptb"})
#: The conditions a term may put on a number, and what each asks of a value.
_CONDITIONS: Final = ("below", "at_most", "above", "at_least")
#: |coefficient - ln(OR)| allowed: both are printed to 3 decimals.
_LN_OR_TOLERANCE: Final = 0.0015


class RiskModelError(ValueError):
    """A model file that cannot be used, with the file and the field at fault."""


class ModelKind(StrEnum):
    LOGISTIC = "logistic"
    LIKELIHOOD_RATIO = "likelihood_ratio"
    RISK_TABLE = "risk_table"


@dataclass(frozen=True, slots=True)
class LengthWindow:
    """Which transvaginal length the model reads: the first one measured in the window."""

    from_days: int
    upto_days: int


@dataclass(frozen=True, slots=True)
class Condition:
    """A threshold on a number: `below` 30.9 is "< 30.9"."""

    kind: str
    value: float


@dataclass(frozen=True, slots=True)
class Term:
    predictor: str
    coefficient: float
    condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class RatioBand:
    """A likelihood ratio for lengths at or under `at_most_mm` (None: every other length)."""

    at_most_mm: float | None
    ratio: float


@dataclass(frozen=True, slots=True)
class RiskModel:
    id: str
    title: str
    kind: ModelKind
    citation: str
    source: str
    population: str
    #: The outcome: spontaneous birth before this gestation (days).
    outcome_before_days: int
    fetuses: frozenset[int]
    length: LengthWindow | None = None
    needs_previous_birth: bool = False
    intercept: float = 0.0
    terms: tuple[Term, ...] = ()
    bands: tuple[RatioBand, ...] = ()
    #: risk_table: (this pregnancy, her last birth) -> probability.
    table: Mapping[tuple[str, str], float] = field(default_factory=dict)
    published: Mapping[str, float] = field(default_factory=dict)

    @property
    def unrecorded_predictors(self) -> tuple[str, ...]:
        """Predictors the model reads that CervixWatch's rows do not hold."""
        return tuple(sorted({t.predictor for t in self.terms} - RECORDED_PREDICTORS, key=str.lower))

    @property
    def outcome_words(self) -> str:
        return f"spontaneous birth before {ga_text(self.outcome_before_days)} weeks"


@dataclass(frozen=True, slots=True)
class Applicable:
    """A row the model applies to, with what it reads: the predictors (a logistic model's),
    the length's band (a likelihood-ratio model's) or the table's row (a risk table's)."""

    predictors: Mapping[str, float]
    #: The length it reads, as measured (perhaps a bound: `_satisfies`).
    length: Mapping[str, Any] | None = None
    ratio: float | None = None
    #: Which of a likelihood-ratio model's bands her length is in (0: the shortest).
    band: int | None = None
    table_risk: float | None = None


@dataclass(frozen=True, slots=True)
class NotApplicable:
    reason: str


# --- loading --------------------------------------------------------------------------------


def _need(raw: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in raw or raw[key] in (None, ""):
        raise RiskModelError(f"{where}: '{key}' is required")
    return raw[key]


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise RiskModelError(f"{where}: {value!r} is not a number")
    return float(value)


def _gestation(text: Any, where: str) -> int:
    try:
        return ga(str(text))
    except ValueError:
        raise RiskModelError(f"{where}: {text!r} is not a gestation like 24+6") from None


def _length_window(raw: Any, where: str) -> LengthWindow | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise RiskModelError(f"{where}: expected from, upto and take")
    take = raw.get("take", "first")
    if take != "first":
        raise RiskModelError(f"{where}.take: only 'first' (the first length of the window)")
    window = LengthWindow(
        _gestation(_need(raw, "from", where), f"{where}.from"),
        _gestation(_need(raw, "upto", where), f"{where}.upto"),
    )
    if window.from_days > window.upto_days:
        raise RiskModelError(f"{where}: the window ends before it starts")
    return window


def _condition(raw: Mapping[str, Any], where: str) -> Condition | None:
    found = [name for name in _CONDITIONS if name in raw]
    if len(found) > 1:
        raise RiskModelError(f"{where}: one condition at most, not {', '.join(found)}")
    if not found:
        return None
    return Condition(found[0], _number(raw[found[0]], f"{where}.{found[0]}"))


def _terms(raw: Any, where: str) -> tuple[Term, ...]:
    if not isinstance(raw, list) or not raw:
        raise RiskModelError(f"{where}: a list of terms is required")
    terms = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise RiskModelError(f"{here}: expected predictor and coefficient")
        term = Term(
            str(_need(item, "predictor", here)),
            _number(_need(item, "coefficient", here), f"{here}.coefficient"),
            _condition(item, here),
        )
        if "odds_ratio" in item:
            odds = _number(item["odds_ratio"], f"{here}.odds_ratio")
            if odds <= 0 or abs(math.log(odds) - term.coefficient) > _LN_OR_TOLERANCE:
                raise RiskModelError(
                    f"{here}: coefficient {term.coefficient} is not ln(odds ratio {odds}) = "
                    f"{math.log(odds):.3f} (a transcription error?)"
                )
        terms.append(term)
    return tuple(terms)


def _bands(raw: Any, where: str) -> tuple[RatioBand, ...]:
    if not isinstance(raw, list) or not raw:
        raise RiskModelError(f"{where}: a list of bands is required")
    bands = []
    for i, item in enumerate(raw):
        here = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            raise RiskModelError(f"{here}: expected length_mm_at_most (or otherwise) and ratio")
        ratio = _number(_need(item, "ratio", here), f"{here}.ratio")
        if ratio <= 0:
            raise RiskModelError(f"{here}.ratio: a likelihood ratio is above 0")
        if item.get("otherwise") is True:
            bands.append(RatioBand(None, ratio))
        else:
            at_most = _number(_need(item, "length_mm_at_most", here), f"{here}.length_mm_at_most")
            bands.append(RatioBand(at_most, ratio))
    cutoffs = [b.at_most_mm for b in bands if b.at_most_mm is not None]
    if cutoffs != sorted(cutoffs) or len(set(cutoffs)) != len(cutoffs):
        raise RiskModelError(f"{where}: bands in increasing order of length, each once")
    if bands[-1].at_most_mm is not None or sum(b.at_most_mm is None for b in bands) != 1:
        raise RiskModelError(f"{where}: the last band, and only it, is 'otherwise: true'")
    return tuple(bands)


def _table(name: Any, evidence: RiskEvidence, where: str) -> Mapping[tuple[str, str], float]:
    if name != "kazemier_2014":
        raise RiskModelError(f"{where}: only kazemier_2014 is a table of absolute risks")
    return {key: figure.percent / 100 for key, figure in evidence.kazemier_recurrence.items()}


def model_from_data(data: Any, evidence: RiskEvidence, where: str) -> RiskModel:
    """The model of a file's parsed YAML; RiskModelError names the field at fault."""
    if not isinstance(data, Mapping):
        raise RiskModelError(f"{where}: expected a mapping")
    kind_text = _need(data, "kind", where)
    try:
        kind = ModelKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in ModelKind)
        raise RiskModelError(f"{where}.kind: {kind_text!r} is not one of {kinds}") from None
    outcome = _need(data, "outcome", where)
    before = _gestation(
        _need(outcome, "spontaneous_birth_before", f"{where}.outcome"),
        f"{where}.outcome.spontaneous_birth_before",
    )
    if before > TERM:
        raise RiskModelError(f"{where}.outcome: a preterm birth is before 37+0")
    valid = _need(data, "valid_range", where)
    fetuses = _need(valid, "fetuses", f"{where}.valid_range")
    if not isinstance(fetuses, list) or not all(isinstance(f, int) and f > 0 for f in fetuses):
        raise RiskModelError(f"{where}.valid_range.fetuses: a list of counts like [1] or [2]")
    model_id = str(_need(data, "id", where))
    # The id names the report's files (`app.model_report`): it must not name a folder.
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", model_id):
        raise RiskModelError(f"{where}.id: {model_id!r}: lower-case letters, digits, . _ -")
    common: dict[str, Any] = {
        "id": model_id,
        "title": str(_need(data, "title", where)),
        "kind": kind,
        "citation": " ".join(str(_need(data, "citation", where)).split()),
        "source": str(_need(data, "source", where)),
        "population": str(_need(data, "population", where)),
        "outcome_before_days": before,
        "fetuses": frozenset(fetuses),
        "length": _length_window(valid.get("length"), f"{where}.valid_range.length"),
        "needs_previous_birth": valid.get("previous_birth") == "required",
        "published": {
            str(k): _number(v, f"{where}.published.{k}")
            for k, v in (data.get("published") or {}).items()
        },
    }
    if kind is ModelKind.LOGISTIC:
        return RiskModel(
            **common,
            intercept=_number(_need(data, "intercept", where), f"{where}.intercept"),
            terms=_terms(data.get("terms"), f"{where}.terms"),
        )
    if kind is ModelKind.LIKELIHOOD_RATIO:
        if data.get("pretest") != "cohort":
            raise RiskModelError(
                f"{where}.pretest: 'cohort' (the validation cohort's prevalence) is required"
            )
        if common["length"] is None:
            raise RiskModelError(f"{where}.valid_range.length: the length the ratios are for")
        return RiskModel(**common, bands=_bands(data.get("likelihood_ratios"), f"{where}.bands"))
    if not common["needs_previous_birth"]:
        raise RiskModelError(f"{where}.valid_range.previous_birth: 'required' for a risk table")
    return RiskModel(
        **common,
        table=_table(data.get("risks_from_evidence"), evidence, f"{where}.risks_from_evidence"),
    )


def load_model(path: Path, evidence: RiskEvidence) -> RiskModel:
    """The model in a YAML file; RiskModelError names the file and the field at fault."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise RiskModelError(f"{path}: cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise RiskModelError(f"{path}: not YAML ({error})") from None
    return model_from_data(data, evidence, str(path))


def bundled_models(evidence: RiskEvidence) -> list[RiskModel]:
    """The models shipped with CervixWatch, by id."""
    models = [load_model(p, evidence) for p in sorted(BUNDLED_MODELS.glob("*.yaml"))]
    return sorted(models, key=lambda m: m.id)


# --- applying -------------------------------------------------------------------------------


def _first_length(window: LengthWindow, lengths: Sequence[Mapping[str, Any]]) -> Any:
    inside = [
        m
        for m in lengths
        if m.get("ga_days") is not None and window.from_days <= m["ga_days"] <= window.upto_days
    ]
    return inside[0] if inside else None


def _satisfies(measured: Mapping[str, Any], condition: Condition) -> bool | None:
    """Whether a length (perhaps given only as a bound) meets the condition; None when the
    bound cannot say ("<25" against "at most 20")."""
    mm, t = float(measured["mm"]), condition.value
    comparator = measured.get("comparator")
    if comparator is None:
        return {
            "below": mm < t,
            "at_most": mm <= t,
            "above": mm > t,
            "at_least": mm >= t,
        }[condition.kind]
    strict = comparator in ("<", ">")
    if comparator in ("<", "<="):
        # Every possible length is under mm: a condition is settled when mm is at its edge.
        settled = {
            "below": (True, mm <= t if strict else mm < t),
            "at_most": (True, mm <= t),
            "above": (False, mm <= t),
            "at_least": (False, mm <= t if strict else mm < t),
        }[condition.kind]
    else:
        settled = {
            "above": (True, mm >= t if strict else mm > t),
            "at_least": (True, mm >= t),
            "below": (False, mm >= t),
            "at_most": (False, mm >= t if strict else mm > t),
        }[condition.kind]
    answer, known = settled
    return answer if known else None


def _plurality(fetuses: int | None) -> str | None:
    return {1: "singleton", 2: "twins"}.get(fetuses or 0)


def _previous_birth(row: Mapping[str, Any]) -> str | NotApplicable:
    """Her last birth in the words of Kazemier's table ("preterm singleton"), or why not."""
    if not row.get("previous_births"):
        return NotApplicable("no previous birth")
    days = row.get("previous_birth_ga_days")
    plurality = _plurality(row.get("previous_birth_fetuses"))
    if days is None:
        return NotApplicable("last birth: gestation not recorded (or which birth was last)")
    if plurality is None:
        return NotApplicable("last birth: number of babies not recorded")
    if days >= TERM:
        return f"term {plurality}"
    onset = row.get("previous_birth_onset")
    if onset is None or onset == Onset.UNKNOWN.value:
        return NotApplicable("last birth preterm: its onset not recorded")
    if Onset(onset) not in SPONTANEOUS_ONSETS:
        return NotApplicable("last birth preterm but not spontaneous: no row in the table")
    return f"preterm {plurality}"


def applicability(model: RiskModel, row: Mapping[str, Any]) -> Applicable | NotApplicable:
    """What the model reads from a row, or why it does not apply to her."""
    if row.get("error"):
        return NotApplicable("records refused by the reader")
    if model.unrecorded_predictors:
        return NotApplicable(f"not recorded: {', '.join(model.unrecorded_predictors)}")
    fetuses = row.get("fetuses")
    if fetuses is None:
        return NotApplicable("number of fetuses not recorded")
    if fetuses not in model.fetuses:
        words = _plurality(fetuses) or f"{fetuses} fetuses"
        return NotApplicable(f"outside the model's range: {words}")
    predictors: dict[str, float] = {}
    measured = None
    if model.length is not None:
        measured = _first_length(model.length, row.get("lengths") or [])
        if measured is None:
            window = f"{ga_text(model.length.from_days)}-{ga_text(model.length.upto_days)}"
            return NotApplicable(f"no transvaginal length at {window}")
        if measured.get("comparator") is None:
            predictors["length_mm"] = float(measured["mm"])
    if model.kind is ModelKind.LIKELIHOOD_RATIO:
        assert measured is not None
        return _band_of(model, measured, predictors)
    if model.kind is ModelKind.RISK_TABLE:
        previous = _previous_birth(row)
        if isinstance(previous, NotApplicable):
            return previous
        current = _plurality(fetuses)
        risk = model.table.get((current or "", previous))
        if risk is None:
            return NotApplicable(f"no row in the table for {current} after {previous}")
        return Applicable(predictors, table_risk=risk)
    return _logistic_inputs(model, row, measured, predictors)


def _band_of(
    model: RiskModel, measured: Mapping[str, Any], predictors: Mapping[str, float]
) -> Applicable | NotApplicable:
    for index, band in enumerate(model.bands):
        inside = (
            True
            if band.at_most_mm is None
            else _satisfies(measured, Condition("at_most", band.at_most_mm))
        )
        if inside is None:
            return NotApplicable(f"length given only as {measured['comparator']}{measured['mm']}")
        if inside:
            return Applicable(predictors, length=measured, ratio=band.ratio, band=index)
    raise AssertionError("the last band is 'otherwise'")  # pragma: no cover - checked at load


def _logistic_inputs(
    model: RiskModel,
    row: Mapping[str, Any],
    measured: Mapping[str, Any] | None,
    predictors: dict[str, float],
) -> Applicable | NotApplicable:
    prior = row.get("prior_sptb")
    if prior is not None:
        predictors["prior_sptb"] = 1.0 if prior else 0.0
    for term in model.terms:
        if term.predictor == "length_mm" and measured is not None and term.condition is not None:
            if _satisfies(measured, term.condition) is None:
                return NotApplicable(
                    f"length given only as {measured['comparator']}{measured['mm']}"
                )
        elif term.predictor not in predictors:
            return NotApplicable(f"{term.predictor} not recorded")
    return Applicable(predictors, length=measured)


def logistic_risk(model: RiskModel, case: Applicable) -> float:
    """The probability of a logistic model: a term with a condition adds its coefficient when
    the condition holds; one without multiplies its predictor's value."""
    logit = model.intercept
    for term in model.terms:
        if term.condition is None:
            logit += term.coefficient * case.predictors[term.predictor]
        elif term.predictor == "length_mm" and case.length is not None:
            logit += term.coefficient if _satisfies(case.length, term.condition) else 0.0
        else:
            value = {"mm": case.predictors[term.predictor]}
            logit += term.coefficient if _satisfies(value, term.condition) else 0.0
    return 1 / (1 + math.exp(-logit))


def risk_of(model: RiskModel, case: Applicable, pretest_odds: float | None = None) -> float:
    """The model's probability of the outcome for an applicable row. A likelihood-ratio model
    needs the pre-test odds (the cohort's: `pretest: cohort`)."""
    if case.table_risk is not None:
        return case.table_risk
    if case.ratio is not None:
        if pretest_odds is None or pretest_odds <= 0:
            raise ValueError("a likelihood ratio needs pre-test odds above 0")
        odds = pretest_odds * case.ratio
        return odds / (1 + odds)
    return logistic_risk(model, case)


def outcome_of(model: RiskModel, row: Mapping[str, Any]) -> bool | NotApplicable:
    """Whether the row's pregnancy ended in the model's outcome, or why it cannot be said.

    An event is a spontaneous birth before the model's gestation; a birth at or after it is
    not. Excluded: pregnancies not ended, an end with no gestation, a loss rather than a
    birth, a preterm birth whose onset is unknown, and a medically indicated birth before the
    gestation (it took away the chance of the outcome: a competing event, not a non-event)."""
    if row.get("ended_on") is None:
        return NotApplicable("pregnancy not ended: no outcome yet")
    days = row.get("ended_ga_days")
    if days is None:
        return NotApplicable("gestation at the end not recorded")
    if row.get("outcome") not in ("live-birth", "stillbirth"):
        return NotApplicable("ended other than by a birth")
    if days >= model.outcome_before_days:
        return False
    sptb = row.get("sptb")
    if sptb is None:
        return NotApplicable("preterm birth: onset not recorded")
    if not sptb:
        return NotApplicable("medically indicated birth before the outcome's gestation")
    return True
