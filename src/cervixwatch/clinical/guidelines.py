"""Guideline profiles as data: their sources, recommendation rules and suppressions.

A profile (`acog`, `nice`, or any other a knowledge file defines) is a set of recommendation
rules, each naming the recommendation code it gives, the source rule it stands on (ids from
shared/clinical/guidelines.md), its strength and its condition. `profile_from_data` builds one
from the plain data of a knowledge file and checks it; reading the file is the caller's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeAlias

from cervixwatch.clinical.conditions import (
    Check,
    Condition,
    ConditionCode,
    ConditionError,
    Explain,
    Unknowns,
    parse_condition,
)
from cervixwatch.clinical.facts import FACT_CATALOGUE, windowed_fact
from cervixwatch.clinical.gestation import ga

STRENGTHS = ("recommend", "offer", "consider", "shared-decision", "not-recommended")
#: Provenance of a source rule (S, M, D in guidelines.md) and how a recommendation shows it.
PROVENANCE = {"S": "verified", "M": "unverified", "D": "derived"}
Provenance = Literal["verified", "unverified", "derived"]
#: Codes a profile may never give: CervixWatch never recommends 17-OHPC or bed rest
#: (FDA-01, SMFM23-01; ACOG142-09, RCOG75-08).
FORBIDDEN_CODE_WORDS = ("bed-rest", "activity-restriction-advised", "start-17ohpc")

#: The recommendation codes of the contract (shared/DESIGN.md, "Recommendation codes"), with
#: their meaning. Every loaded profile is checked against this list: a local protocol can add
#: rules, not codes that no view, audit or integration knows.
RECOMMENDATION_CODES: Mapping[str, str] = {
    "refer-preterm-birth-clinic": "refer to a preterm-birth prevention clinic",
    "single-cervical-length-screen": "one cervical-length measurement in its window",
    "serial-cervical-length": "serial transvaginal cervical-length surveillance",
    "history-indicated-cerclage": "offer cerclage on history alone",
    "ultrasound-indicated-cerclage": "offer cerclage because the cervix is short on ultrasound",
    "exam-indicated-cerclage": "offer emergency (physical-exam-indicated) cerclage",
    "vaginal-progesterone": "offer vaginal progesterone",
    "cerclage-not-recommended": "cerclage is not advised in this situation",
    "cerclage-contraindicated": "a contraindication to cerclage is present",
    "no-activity-restriction": "bed rest / activity restriction is not recommended",
    "remove-cerclage": "plan or perform removal of a cerclage",
    "urgent-evaluation": "symptoms or findings need same-day assessment",
    "consider-abdominal-cerclage": "consider transabdominal cerclage",
    "discontinue-17ohpc": "stop hydroxyprogesterone caproate (17-OHPC)",
    "preterm-labour-diagnosed": "treat as diagnosed preterm labour (NICE NG25 1.7.4)",
}
#: Codes that give an intervention (a procedure, a medicine or a diagnosis that leads to
#: treatment). No rule giving one may assume the usual value of an unknown fact (CD-01), and
#: no rule giving one may depend on a code given on an assumption.
INTERVENTION_CODES = frozenset(
    {
        "history-indicated-cerclage",
        "ultrasound-indicated-cerclage",
        "exam-indicated-cerclage",
        "vaginal-progesterone",
        "remove-cerclage",
        "consider-abdominal-cerclage",
        "discontinue-17ohpc",
        "preterm-labour-diagnosed",
    }
)
#: Codes that lead away from an intervention or toward more surveillance: the only ones a rule
#: may give on an assumption (CD-01), besides any rule of strength `not-recommended`.
ASSUMPTION_ALLOWED_CODES = frozenset(
    {
        "cerclage-not-recommended",
        "cerclage-contraindicated",
        "no-activity-restriction",
        "serial-cervical-length",
        "single-cervical-length-screen",
        "urgent-evaluation",
        "refer-preterm-birth-clinic",
    }
)


class KnowledgeError(ValueError):
    """A knowledge file is malformed; the message names the file and the place."""


@dataclass(frozen=True, slots=True)
class SourceRule:
    """One statement of a guideline: guidelines.md's rule id, citation and own words."""

    id: str
    citation: str
    section: str
    words: str
    provenance: str  # S, M or D

    @property
    def provenance_label(self) -> str:
        return PROVENANCE[self.provenance]


@dataclass(frozen=True, slots=True)
class ScanSchedule:
    """Transvaginal cervical-length scans a rule asks for, by gestational age in days.

    `interval_days` is None when the source leaves the interval to the clinic. A shorter
    interval applies when the latest length lies in [at_least_mm, below_mm). Below
    `stop_below_mm` the schedule gives way to a treatment decision.
    """

    kind: Literal["serial", "single"]
    from_days: int
    to_days: int
    interval_days: int | None = None
    shorter_interval_days: int | None = None
    shorter_at_least_mm: float | None = None
    shorter_below_mm: float | None = None
    stop_below_mm: float | None = None
    note: str = ""
    #: Serial: the next scan is overdue this many days after the last (SBL v3.1 "every 2-4
    #: weeks": due at 14, overdue after 28); None: overdue from the day after it was due.
    overdue_after_days: int | None = None
    #: Single: the last gestational day on which the screen would still change management;
    #: from the day after the window until then it is overdue, after it missed (CD-05).
    overdue_until_days: int | None = None


@dataclass(frozen=True, slots=True)
class Course:
    """How a treatment runs once started (profiles.md, "The course of care"), for one code.

    It may be started only up to `start_until_days` (inclusive); while `in_place` (a fact) holds
    the recommendation is shown as the current treatment, never as an offer; from
    `continue_until_days` the state says it may stop; from `review_from_days`, "review stopping".
    Each bound names the source rule it comes from.
    """

    code: str
    in_place: str
    start_until_days: int
    start_rule: str
    continue_until_days: int
    continue_rule: str
    continue_words: str
    review_from_days: int | None = None
    review_rule: str | None = None
    review_words: str = ""


@dataclass(frozen=True, slots=True)
class RecommendationRule:
    code: str
    rule: str
    also: tuple[str, ...]
    strength: str
    provenance: str
    summary: str
    when: Condition
    window: tuple[int, int] | None = None
    scan: ScanSchedule | None = None
    #: Rules that look at what other rules gave are evaluated after those (set on loading).
    second_pass: bool = False
    #: A rule offering "a choice of either" (NICE-01): the fact that says the other option is
    #: under way, and its words; then this one is no offer any more (the choice is made).
    choice_made_by: str | None = None
    choice_words: str = ""
    #: Whether the condition assumes the usual value of an unknown fact (CD-01).
    assumes: bool = False
    _code: ConditionCode | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def check(self) -> Check:
        """`when.value` compiled (conditions.Condition.compiled)."""
        return self.compiled_code.check

    @property
    def compiled_code(self) -> ConditionCode:
        """`when.value`, `.unknowns` and `.explain` compiled, the first time they are asked for:
        compiling costs about 1 ms a rule, which a profile read only to list its rules, or an
        older version that is not used, need not pay."""
        code = self._code
        if code is None:
            code = self.when.compiled_code(f"{self.rule} {self.code}")
            object.__setattr__(self, "_code", code)
        return code

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return (self.rule, *self.also)


@dataclass(frozen=True, slots=True)
class Suppression:
    """Codes a profile withholds when a condition holds (e.g. twins: no progesterone)."""

    rule: str
    reason: str
    when: Condition
    codes: frozenset[str]


#: A profile's conditions are compiled (conditions.Condition.compiled_code) once `assess` has
#: asked for its rules this many times; until then each rule's tree is walked (`value`, the same
#: answers). Compiling costs about 1 ms a rule, 20-25 ms a bundled profile, and saves about
#: 0.5 us a rule per assessment, so it pays back after several hundred assessments: a one-shot
#: `cervixwatch assess` (a few asks per profile) never compiles, a server or a batch soon does.
COMPILE_AFTER = 100


class RuleCode(NamedTuple):
    """A rule as `assess` runs it: its condition as functions (the tree's own methods, or
    generated code once compiled: `conditions.ConditionCode`) and its course, if any."""

    rule: RecommendationRule
    check: Check
    unknowns: Unknowns
    explain: Explain
    course: Course | None


#: A profile's rules in the order `assess` evaluates them: those that do not look at what other
#: rules gave, then those that do.
Passes: TypeAlias = tuple[tuple[RuleCode, ...], ...]


@dataclass(frozen=True, slots=True)
class GuidelineProfile:
    id: str
    version: str
    title: str
    citations: Mapping[str, str]
    sources: Mapping[str, SourceRule]
    rules: tuple[RecommendationRule, ...]
    suppressions: tuple[Suppression, ...]
    courses: Mapping[str, Course] = field(default_factory=dict)
    #: The facts whose windows this profile's rules set ("sPTB before 32+0"), to be derived.
    #: The windowed facts its conditions name ("prior_sptb[..223]", or a 2026.11 name such as
    #: "prior_sptb_before_34w"): `derive_facts` works out only these.
    windowed_facts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        walking = self._make_passes(compiled=False)
        object.__setattr__(self, "_walking_passes", walking)
        object.__setattr__(self, "_walking_serial", _serial_scans(walking))
        citations = {r.rule_ids: self.citation_text(r.rule_ids) for r in self.rules}
        object.__setattr__(self, "rule_citations", citations)

    @property
    def passes(self) -> Passes:
        """The two passes of rules, each rule with its condition's check and its course, made
        once (`assess` runs them for every pregnancy): the trees' own `value` at first, their
        compiled form once asked for COMPILE_AFTER times."""
        passes = self._compiled_passes
        if passes is None:
            passes = self._passes_before_compiling()
        return passes

    def _passes_before_compiling(self) -> Passes:
        asked = self._asked + 1
        object.__setattr__(self, "_asked", asked)
        if asked < COMPILE_AFTER:
            return self._walking_passes
        passes = self._make_passes(compiled=True)
        object.__setattr__(self, "_compiled_serial", _serial_scans(passes))
        object.__setattr__(self, "_compiled_passes", passes)
        return passes

    @property
    def serial_scans(self) -> tuple[RuleCode, ...]:
        """The first-pass rules with serial scans, as `passes` gives them: `assess` looks among
        them for a scan missed in its window, for every pregnancy (going through all the rules
        for them cost ~5 us an assessment)."""
        if self._compiled_passes is None:
            return self._walking_serial
        return self._compiled_serial

    def _make_passes(self, compiled: bool) -> Passes:
        return tuple(
            tuple(
                RuleCode(
                    r,
                    *(r.compiled_code if compiled else r.when.walking_code()),
                    self.courses.get(r.code),
                )
                for r in self.rules
                if r.second_pass is second
            )
            for second in (False, True)
        )

    _walking_passes: Passes = field(default=((), ()), init=False, compare=False, repr=False)
    _compiled_passes: Passes | None = field(default=None, init=False, compare=False, repr=False)
    _walking_serial: tuple[RuleCode, ...] = field(default=(), init=False, compare=False, repr=False)
    _compiled_serial: tuple[RuleCode, ...] = field(
        default=(), init=False, compare=False, repr=False
    )
    _asked: int = field(default=0, init=False, compare=False, repr=False)
    #: The citation text of each rule's sources, made once.
    rule_citations: Mapping[tuple[str, ...], str] = field(
        default_factory=dict, compare=False, repr=False
    )

    def short_reference(self, rule_id: str) -> str:
        """The work a rule comes from, briefly ("NICE NG25"): the citation's short name."""
        return self.short_names.get(self.sources[rule_id].citation, self.sources[rule_id].citation)

    short_names: Mapping[str, str] = field(default_factory=dict)

    def citation_for(self, rule_id: str) -> str:
        source = self.sources[rule_id]
        return f"{self.citations[source.citation]} {source.section}."

    def citation_text(self, rule_ids: tuple[str, ...]) -> str:
        """The works cited by these rules, each once, with the section each rule comes from:
        "ACOG PB 142 ... (ACOG142-04: Summary of recommendations, Level A)"."""
        by_work: dict[str, list[str]] = {}
        for rule_id in rule_ids:
            source = self.sources[rule_id]
            by_work.setdefault(source.citation, []).append(f"{rule_id}: {source.section}")
        return " ".join(
            f"{self.citations[work]} ({'; '.join(sections)})." for work, sections in by_work.items()
        )


def _serial_scans(passes: Passes) -> tuple[RuleCode, ...]:
    return tuple(e for e in passes[0] if e.rule.scan is not None and e.rule.scan.kind == "serial")


_KIND_WORDS: Mapping[type, str] = {dict: "a mapping", list: "a list", str: "text"}


def _require(data: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise KnowledgeError(f"{where}: missing '{key}'")
    value = data[key]
    if not isinstance(value, kind):
        wanted = (
            _KIND_WORDS.get(kind, "text or a number")
            if isinstance(kind, type)
            else ("text or a number")
        )
        raise KnowledgeError(f"{where}: '{key}' must be {wanted}, got {type(value).__name__}")
    return value


def _ga_days(raw: object, where: str) -> int:
    """A weeks+days literal in days, read by the one grammar (`gestation.ga`)."""
    if not isinstance(raw, str):
        raise KnowledgeError(f"{where}: expected a gestational age like '16+0', got {raw!r}")
    try:
        return ga(raw)
    except ValueError as error:
        raise KnowledgeError(f"{where}: {error}") from None


def _scan(raw: Mapping[str, Any], where: str) -> ScanSchedule:
    kind = _require(raw, "kind", where, str)
    if kind not in ("serial", "single"):
        raise KnowledgeError(f"{where}.kind: expected serial or single")
    shorter = raw.get("shorter_interval") or {}
    return ScanSchedule(
        kind=kind,
        from_days=_ga_days(raw.get("from"), f"{where}.from"),
        to_days=_ga_days(raw.get("to"), f"{where}.to"),
        interval_days=raw.get("interval_days"),
        shorter_interval_days=shorter.get("days"),
        shorter_at_least_mm=shorter.get("latest_mm_at_least"),
        shorter_below_mm=shorter.get("latest_mm_below"),
        stop_below_mm=raw.get("stop_below_mm"),
        note=" ".join(str(raw.get("note", "")).split()),
        overdue_after_days=raw.get("overdue_after_days"),
        overdue_until_days=(
            _ga_days(raw["overdue_until"], f"{where}.overdue_until")
            if "overdue_until" in raw
            else None
        ),
    )


def _source(
    rule_id: str, raw: Mapping[str, Any], where: str, citations: Mapping[str, str]
) -> SourceRule:
    citation = _require(raw, "citation", where, str)
    if citation not in citations:
        raise KnowledgeError(f"{where}.citation: {citation!r} is not in the profile's citations")
    provenance = _require(raw, "provenance", where, str)
    if provenance not in PROVENANCE:
        raise KnowledgeError(f"{where}.provenance: expected S, M or D, got {provenance!r}")
    return SourceRule(
        id=rule_id,
        citation=citation,
        section=str(_require(raw, "section", where, str)).strip(),
        words=" ".join(str(_require(raw, "words", where, str)).split()),
        provenance=provenance,
    )


def _recommendation(
    raw: Mapping[str, Any], where: str, sources: Mapping[str, SourceRule]
) -> RecommendationRule:
    code = _require(raw, "code", where, str)
    if any(word in code for word in FORBIDDEN_CODE_WORDS):
        raise KnowledgeError(f"{where}.code: {code!r} recommends what CervixWatch never does")
    if code not in RECOMMENDATION_CODES:
        raise KnowledgeError(
            f"{where}.code: {code!r} is not a recommendation code of the contract (DESIGN.md)"
        )
    rule = _require(raw, "rule", where, str)
    also = tuple(raw.get("also", ()))
    for rule_id in (rule, *also):
        if rule_id not in sources:
            raise KnowledgeError(f"{where}: rule {rule_id!r} is not among the profile's sources")
    strength = _require(raw, "strength", where, str)
    if strength not in STRENGTHS:
        raise KnowledgeError(f"{where}.strength: {strength!r} is not one of {STRENGTHS}")
    provenance = raw.get("provenance") or sources[rule].provenance
    if provenance not in PROVENANCE:
        raise KnowledgeError(f"{where}.provenance: expected S, M or D")
    try:
        when = parse_condition(raw.get("when"), f"{where}.when")
    except ConditionError as error:
        raise KnowledgeError(str(error)) from None
    window = None
    if "window" in raw:
        window = (
            _ga_days(raw["window"].get("from"), f"{where}.window.from"),
            _ga_days(raw["window"].get("to"), f"{where}.window.to"),
        )
    scan = _scan(raw["scan"], f"{where}.scan") if "scan" in raw else None
    if when.assumes() and not (strength == "not-recommended" or code in ASSUMPTION_ALLOWED_CODES):
        # CD-01: an assumption may lead away from an intervention, never toward one.
        raise KnowledgeError(
            f"{where}.when: assumes the usual value of an unknown fact, but {code!r} is not a"
            " 'not recommended' or surveillance code (CD-01)"
        )
    choice = raw.get("choice") or {}
    if choice and (
        choice.get("made_by") not in FACT_CATALOGUE or not isinstance(choice.get("words"), str)
    ):
        raise KnowledgeError(f"{where}.choice: expected made_by (a fact) and words")
    return RecommendationRule(
        choice_made_by=choice.get("made_by"),
        choice_words=" ".join(str(choice.get("words", "")).split()),
        code=code,
        rule=rule,
        also=also,
        strength=strength,
        provenance=PROVENANCE[provenance],
        summary=" ".join(str(_require(raw, "summary", where, str)).split()),
        when=when,
        window=window,
        scan=scan,
        second_pass=when.uses_fired(),
        assumes=when.assumes(),
    )


def profile_from_data(data: object, origin: str) -> GuidelineProfile:
    """Build and check a profile from a knowledge file's data; `origin` names it in errors."""
    if not isinstance(data, dict):
        raise KnowledgeError(f"{origin}: expected a mapping at the top level")
    profile_id = _require(data, "profile", origin, str)
    citations = _require(data, "citations", origin, dict)
    raw_sources = _require(data, "sources", origin, dict)
    sources = {
        rule_id: _source(rule_id, raw, f"{origin}: sources.{rule_id}", citations)
        for rule_id, raw in raw_sources.items()
    }
    raw_rules = _require(data, "recommendations", origin, list)
    rules = tuple(
        _recommendation(raw, f"{origin}: recommendations[{i}] ({raw.get('code')})", sources)
        for i, raw in enumerate(raw_rules)
    )
    _check_assumed_codes(rules, origin)
    suppressions = []
    for i, raw in enumerate(data.get("suppressions", [])):
        where = f"{origin}: suppressions[{i}]"
        rule = _require(raw, "rule", where, str)
        if rule not in sources:
            raise KnowledgeError(f"{where}: rule {rule!r} is not among the profile's sources")
        try:
            when = parse_condition(raw.get("when"), f"{where}.when")
        except ConditionError as error:
            raise KnowledgeError(str(error)) from None
        suppressions.append(
            Suppression(
                rule=rule,
                reason=" ".join(str(_require(raw, "reason", where, str)).split()),
                when=when,
                codes=frozenset(_require(raw, "codes", where, list)),
            )
        )
    courses = {
        code: _course(code, raw, f"{origin}: courses.{code}", sources)
        for code, raw in (data.get("courses") or {}).items()
    }
    short_names = data.get("short_names") or {}
    for work in short_names:
        if work not in citations:
            raise KnowledgeError(f"{origin}: short_names.{work}: not among the citations")
    return GuidelineProfile(
        id=profile_id,
        version=str(_require(data, "version", origin, (str, int, float))),
        title=str(_require(data, "title", origin, str)),
        citations={k: " ".join(str(v).split()) for k, v in citations.items()},
        sources=sources,
        rules=rules,
        suppressions=tuple(suppressions),
        courses=courses,
        short_names={k: str(v) for k, v in short_names.items()},
        windowed_facts=frozenset(
            name
            for condition in (
                *(r.when for r in rules),
                *(s.when for s in suppressions),
            )
            for name in condition.fact_names()
            if windowed_fact(name) is not None
        ),
    )


def _check_assumed_codes(rules: tuple[RecommendationRule, ...], origin: str) -> None:
    """No intervention may depend, through `fired`, on a code that a rule gives on an
    assumption (CD-01): the assumption would then lead toward the intervention."""
    assumed = {r.code for r in rules if r.when.assumes()}
    for rule in rules:
        if rule.code in INTERVENTION_CODES and rule.when.uses_fired():
            named = _fired_codes(rule.when)
            if named & assumed:
                raise KnowledgeError(
                    f"{origin}: {rule.rule} ({rule.code}) depends on {sorted(named & assumed)},"
                    " given on an assumption (CD-01)"
                )


def _fired_codes(condition: Condition) -> set[str]:
    codes = getattr(condition, "codes", None)
    if isinstance(codes, frozenset):
        return set(codes)
    out: set[str] = set()
    for name in ("inner",):
        inner = getattr(condition, name, None)
        if isinstance(inner, Condition):
            out |= _fired_codes(inner)
    for part in getattr(condition, "parts", ()):
        out |= _fired_codes(part)
    return out


def _course(
    code: str, raw: Mapping[str, Any], where: str, sources: Mapping[str, SourceRule]
) -> Course:
    if code not in RECOMMENDATION_CODES:
        raise KnowledgeError(f"{where}: {code!r} is not a recommendation code of the contract")
    in_place = _require(raw, "in_place", where, str)
    if in_place not in FACT_CATALOGUE:
        raise KnowledgeError(f"{where}.in_place: unknown fact {in_place!r}")

    def bound(key: str) -> tuple[int, str, str]:
        part = _require(raw, key, where, dict)
        rule = _require(part, "rule", f"{where}.{key}", str)
        if rule not in sources:
            raise KnowledgeError(f"{where}.{key}: rule {rule!r} is not among the sources")
        words = " ".join(str(part.get("words", "")).split())
        return _ga_days(part.get("ga"), f"{where}.{key}.ga"), rule, words

    start, start_rule, _ = bound("start_until")
    until, until_rule, until_words = bound("continue_until")
    review = bound("review_from") if "review_from" in raw else None
    return Course(
        code=code,
        in_place=in_place,
        start_until_days=start,
        start_rule=start_rule,
        continue_until_days=until,
        continue_rule=until_rule,
        continue_words=until_words,
        review_from_days=review[0] if review else None,
        review_rule=review[1] if review else None,
        review_words=review[2] if review else "",
    )
