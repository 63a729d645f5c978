"""The population audit's measures, kept as data (`knowledge/audits/*.yaml`; issue 15, part 3):
what each counts among the rows of `cervixwatch population run`, with the rules it comes from
and their citations.

A measure's `denominator`, `numerator` and exclusions are DuckDB predicates over the Parquet
columns (`app.population_rows.COLUMNS`), with the audit's macros (`app.population_audit`:
`longest_gap`, `scanned_between`, `has_rule`). A scan window is never written twice: a
measure names its rule (`schedule: code@rule`) and `{from}`, `{to}`, `{gap}`, `{until}` are
read from the guideline profile the worklist uses. `{ga:36+1}` is a gestational age, in days.
Loading checks every rule is cited (by the profile or by the audit file's own `sources`),
every placeholder resolves, and every predicate compiles against the columns: a measure that
would fail on a registry fails here first, naming its file, id and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from cervixwatch.clinical.gestation import ga as parse_ga
from cervixwatch.clinical.guidelines import GuidelineProfile, ScanSchedule

__all__ = [
    "BUNDLED_AUDITS",
    "AuditDefinition",
    "AuditError",
    "Exclusion",
    "Measure",
    "NotMeasurable",
    "bundled_audit",
    "load_audit",
]

BUNDLED_AUDITS: Final = Path(__file__).parents[1] / "knowledge" / "audits"
#: The bundled audits by a short name (`population report --audit sbl`).
_SHORT_NAMES: Final = {"sbl": "sbl-v3.1-element5.yaml", "acog": "acog-smfm-pathway.yaml"}

_PLACEHOLDER: Final = re.compile(r"\{([^{}]*)\}")
_GA: Final = re.compile(r"ga:(\d{1,2}\+[0-6])")
_SCHEDULE_PLACEHOLDERS: Final = frozenset({"from", "to", "gap", "until"})


class AuditError(ValueError):
    """An audit file that cannot be used; the message names the file, the measure and field."""


@dataclass(frozen=True, slots=True)
class Exclusion:
    id: str
    title: str
    #: The DuckDB predicate, placeholders resolved.
    where: str


@dataclass(frozen=True, slots=True)
class Measure:
    """One measure: the rows counted (`denominator`, less each exclusion) and those of them
    meeting it (`numerator`)."""

    id: str
    title: str
    rules: tuple[str, ...]
    #: The works the rules come from, with each rule's section.
    citation: str
    #: In words, for the report: what is counted and what is not.
    definition: str
    denominator: str
    numerator: str
    exclusions: tuple[Exclusion, ...] = ()
    #: False for a measure of what should not happen (17-OHPC still in use).
    higher_is_better: bool = True
    #: An outcome also counted by the treatments given in the pregnancy (observational).
    by_treatment: bool = False


@dataclass(frozen=True, slots=True)
class NotMeasurable:
    """A measure of the source the record cannot support, with why: shown in the report, so
    that a gap is never read as a pass."""

    id: str
    title: str
    rules: tuple[str, ...]
    citation: str
    reason: str


@dataclass(frozen=True, slots=True)
class AuditDefinition:
    id: str
    version: str
    title: str
    #: The guideline profile whose rows it counts (`nice`, `acog`).
    profile: str
    measures: tuple[Measure, ...]
    not_measurable: tuple[NotMeasurable, ...]
    source: Path


def bundled_audit(name: str) -> Path:
    """The file of a bundled audit by its short name (`sbl`, `acog`), or a path as given."""
    if name in _SHORT_NAMES:
        return BUNDLED_AUDITS / _SHORT_NAMES[name]
    return Path(name)


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | bool) or (isinstance(value, str) and not value.strip()):
        raise AuditError(f"{where}.{key}: required, as text")
    return str(value).strip() if not isinstance(value, bool) else ("TRUE" if value else "FALSE")


def _rules(raw: Mapping[str, Any], where: str, cite: _Citer) -> tuple[tuple[str, ...], str]:
    rules = raw.get("rules")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, str) for r in rules):
        raise AuditError(f"{where}.rules: a list of the rule ids it comes from")
    return tuple(rules), cite(tuple(rules), f"{where}.rules")


class _Citer:
    """The citation of rule ids: the profile's sources, then the audit file's own."""

    def __init__(
        self, profile: GuidelineProfile, citations: Mapping[str, str], sources: Mapping[str, Any]
    ) -> None:
        self.profile = profile
        self.citations = citations
        self.sources = sources

    def __call__(self, rule_ids: tuple[str, ...], where: str) -> str:
        """Each work once, with the section of each rule from it, as the profile writes them
        ("NHS England ... (SBL-04: Appendix F, Table 2; SBL-01: Element 5)."): a work the
        profile and this file both cite is named once, in the profile's words."""
        by_work: dict[str, list[str]] = {}
        for rule_id in rule_ids:
            if rule_id in self.profile.sources:
                source = self.profile.sources[rule_id]
                work, section = source.citation, source.section
            else:
                own = self.sources.get(rule_id)
                if not isinstance(own, Mapping):
                    raise AuditError(
                        f"{where}: {rule_id} is cited by neither the profile "
                        f"{self.profile.id!r} nor this file's sources"
                    )
                work, section = str(own.get("citation")), str(own.get("section"))
            by_work.setdefault(work, []).append(f"{rule_id}: {section}")
        return " ".join(
            f"{self.profile.citations.get(work) or self.citations.get(work) or work} "
            f"({'; '.join(sections)})."
            for work, sections in by_work.items()
        )


def _schedule(profile: GuidelineProfile, named: str, where: str) -> ScanSchedule:
    code, _, rule_id = named.partition("@")
    for rule in profile.rules:
        if rule.code == code and rule.rule == rule_id and rule.scan is not None:
            return rule.scan
    raise AuditError(f"{where}.schedule: the profile {profile.id!r} has no scan rule {named!r}")


def _resolve(text: str, schedule: ScanSchedule | None, where: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if (ga := _GA.fullmatch(name)) is not None:
            return str(parse_ga(ga.group(1)))
        if name not in _SCHEDULE_PLACEHOLDERS:
            raise AuditError(f"{where}: unknown placeholder {{{name}}}")
        if schedule is None:
            raise AuditError(f"{where}: {{{name}}} needs a `schedule` (code@rule) to read it from")
        found = {
            "from": schedule.from_days,
            "to": schedule.to_days,
            "gap": schedule.overdue_after_days,
            "until": schedule.overdue_until_days,
        }
        if found[name] is None:
            raise AuditError(f"{where}: the schedule gives no {{{name}}}")
        return str(found[name])

    return _PLACEHOLDER.sub(value, text)


def _measure(raw: Any, where: str, profile: GuidelineProfile, cite: _Citer) -> Measure:
    if not isinstance(raw, Mapping):
        raise AuditError(f"{where}: a measure is a mapping")
    rules, citation = _rules(raw, where, cite)
    named = raw.get("schedule")
    schedule = _schedule(profile, str(named), where) if named is not None else None
    exclusions = []
    for i, item in enumerate(raw.get("exclusions") or []):
        at = f"{where}.exclusions[{i}]"
        if not isinstance(item, Mapping):
            raise AuditError(f"{at}: an exclusion is a mapping (id, title, where)")
        exclusions.append(
            Exclusion(
                _text(item, "id", at),
                _text(item, "title", at),
                _resolve(_text(item, "where", at), schedule, f"{at}.where"),
            )
        )
    higher = raw.get("higher_is_better", True)
    if not isinstance(higher, bool):
        raise AuditError(f"{where}.higher_is_better: true or false")
    by_treatment = raw.get("by_treatment", False)
    if not isinstance(by_treatment, bool):
        raise AuditError(f"{where}.by_treatment: true or false")
    return Measure(
        id=_text(raw, "id", where),
        title=_text(raw, "title", where),
        rules=rules,
        citation=citation,
        definition=_text(raw, "definition", where),
        denominator=_resolve(_text(raw, "denominator", where), schedule, f"{where}.denominator"),
        numerator=_resolve(_text(raw, "numerator", where), schedule, f"{where}.numerator"),
        exclusions=tuple(exclusions),
        higher_is_better=higher,
        by_treatment=by_treatment,
    )


def _not_measurable(raw: Any, where: str, cite: _Citer) -> NotMeasurable:
    if not isinstance(raw, Mapping):
        raise AuditError(f"{where}: a mapping (id, title, rules, reason)")
    rules, citation = _rules(raw, where, cite)
    return NotMeasurable(
        _text(raw, "id", where),
        _text(raw, "title", where),
        rules,
        citation,
        _text(raw, "reason", where),
    )


def load_audit(path: Path, profiles: Mapping[str, GuidelineProfile]) -> AuditDefinition:
    """Read and check an audit file against the loaded profiles (`AuditError` names what is
    wrong)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AuditError(f"{path}: cannot be read ({error})") from None
    if not isinstance(raw, Mapping):
        raise AuditError(f"{path}: an audit file is a mapping")
    where = path.name
    profile_id = _text(raw, "profile", where)
    profile = profiles.get(profile_id)
    if profile is None:
        raise AuditError(f"{where}.profile: {profile_id!r} is not a loaded guideline profile")
    cite = _Citer(profile, raw.get("citations") or {}, raw.get("sources") or {})
    measures = tuple(
        _measure(m, f"{where}: measures[{i}]", profile, cite)
        for i, m in enumerate(raw.get("measures") or [])
    )
    if not measures:
        raise AuditError(f"{where}.measures: at least one measure")
    ids = [m.id for m in measures]
    gaps = tuple(
        _not_measurable(m, f"{where}: not_measurable[{i}]", cite)
        for i, m in enumerate(raw.get("not_measurable") or [])
    )
    ids += [g.id for g in gaps]
    if len(set(ids)) != len(ids):
        raise AuditError(f"{where}: measure ids repeat")
    audit = AuditDefinition(
        id=_text(raw, "audit", where),
        version=_text(raw, "version", where),
        title=_text(raw, "title", where),
        profile=profile_id,
        measures=measures,
        not_measurable=gaps,
        source=path,
    )
    # Every predicate compiled against the Parquet's columns now, not on a registry's rows.
    from cervixwatch.app.population_audit import check_predicates

    check_predicates(audit)
    return audit
