"""The population audit (issue 15, part 3): the measures of an audit file
(`app.audit_measures`) counted over the rows of `cervixwatch population run`, per unit, per
quarter, per risk tier and per unit and quarter, in DuckDB (the Parquet of a million
pregnancies is a few tens of megabytes: one machine counts it in seconds, whichever engine
assessed it).

How a row counts for a measure: in its denominator when the denominator's predicate is true;
excluded when also any exclusion is true; met when, not excluded, the numerator is true. A
predicate that is NULL (a value it needs is not recorded: no EDD, so no gestational age) is
not true: the row is not counted, and the rows whose denominator could not be decided are
counted apart (`undetermined`) and shown, so that missing data is never read as a pass or a
fail. Rows the reader refused (`error`) are counted apart too.

The quarter is the quarter of the pregnancy's EDD (calendar, or the UK financial year's,
April to March): the cohort a pregnancy belongs to whether or not it has ended
(docs/clinical-interpretations.md, Q-15-1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import duckdb

from cervixwatch.app.audit_measures import AuditDefinition, AuditError, Measure
from cervixwatch.app.audit_stats import FunnelPosition, funnel_position, wilson
from cervixwatch.app.population import missing_columns, stale_rows_message

__all__ = [
    "NO_EDD",
    "NO_TREATMENT",
    "NO_UNIT",
    "AuditResult",
    "Count",
    "MeasureResult",
    "Quarters",
    "check_predicates",
    "run_audit",
]

Quarters = Literal["calendar", "financial"]

NO_UNIT: Final = "Unit not recorded"
NO_EDD: Final = "EDD not recorded"
NO_TIER: Final = "tier unknown"
#: The treatment group of a pregnancy with none recorded (not "none": a registry may not
#: hold every treatment).
NO_TREATMENT: Final = "none recorded"

#: The audit's own functions, usable in any predicate of an audit file.
MACROS: Final = (
    # The points a stretch without a scan is measured between: the window's first day, each
    # scan inside the window (in order), the window's last day.
    "CREATE OR REPLACE MACRO gap_points(scans, lo, hi) AS list_concat([lo], "
    "list_sort(list_filter(coalesce(scans, []::INTEGER[]), x -> x BETWEEN lo AND hi)), [hi])",
    # The longest stretch, in days, of the window [lo, hi] without a scan.
    "CREATE OR REPLACE MACRO longest_gap(scans, lo, hi) AS list_max(list_transform("
    "range(1, len(gap_points(scans, lo, hi))), "
    "i -> gap_points(scans, lo, hi)[i + 1] - gap_points(scans, lo, hi)[i]))",
    # Whether a scan falls in [lo, hi].
    "CREATE OR REPLACE MACRO scanned_between(scans, lo, hi) AS "
    "len(list_filter(coalesce(scans, []::INTEGER[]), x -> x BETWEEN lo AND hi)) > 0",
    # Whether the guideline gave this recommendation (code@rule), in whatever state.
    "CREATE OR REPLACE MACRO has_rule(states, key) AS "
    "coalesce(list_contains(map_keys(states), key), FALSE)",
)

_QUARTER_SQL: Final[Mapping[Quarters, str]] = {
    "calendar": "strftime(edd, '%Y') || ' Q' || quarter(edd)",
    "financial": (
        "CAST(year(edd) - CASE WHEN month(edd) < 4 THEN 1 ELSE 0 END AS VARCHAR) || '/' || "
        "right(CAST(year(edd) - CASE WHEN month(edd) < 4 THEN 1 ELSE 0 END + 1 AS VARCHAR), 2)"
        " || ' Q' || CAST((month(edd) + 8) % 12 // 3 + 1 AS VARCHAR)"
    ),
}


@dataclass(frozen=True, slots=True)
class Count:
    """One measure in one group of rows."""

    #: Rows whose denominator holds (before exclusions).
    eligible: int
    excluded: int
    met: int
    #: Rows whose denominator could not be decided (a value it needs is not recorded).
    undetermined: int = 0

    @property
    def denominator(self) -> int:
        return self.eligible - self.excluded

    @property
    def rate(self) -> float | None:
        return self.met / self.denominator if self.denominator else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson interval of the rate (None without a denominator)."""
        return wilson(self.met, self.denominator)


@dataclass(frozen=True, slots=True)
class UnitPoint:
    """A unit on the measure's funnel plot (all quarters together)."""

    unit: str
    count: Count
    position: FunnelPosition


@dataclass(frozen=True, slots=True)
class MeasureResult:
    measure: Measure
    network: Count
    by_unit: Mapping[str, Count]
    by_quarter: Mapping[str, Count]
    by_tier: Mapping[str, Count]
    by_unit_quarter: Mapping[tuple[str, str], Count]
    funnel: tuple[UnitPoint, ...]
    #: A `by_treatment` measure's counts by the treatments given (each combination its own
    #: group), and by tier and treatments; empty for other measures.
    by_treatment: Mapping[str, Count] = field(default_factory=dict)
    by_tier_treatment: Mapping[tuple[str, str], Count] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AuditResult:
    audit: AuditDefinition
    parquet: Path
    #: The day(s) the rows were assessed as of.
    as_of: tuple[dt.date, ...]
    quarters: Quarters
    #: Rows of the audit's profile, and those the reader refused (counted in no measure).
    rows: int
    refused: int
    units: tuple[str, ...]
    quarter_labels: tuple[str, ...]
    measures: tuple[MeasureResult, ...]
    refused_by_unit: Mapping[str, int] = field(default_factory=dict)


def _connect() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    for macro in MACROS:
        connection.execute(macro)
    return connection


def _predicate(text: str) -> str:
    return f"coalesce(({text}), FALSE)"


def check_predicates(audit: AuditDefinition) -> None:
    """Compile every predicate of the audit against an empty table of the Parquet's columns
    (`AuditError` names the measure and field of one that does not)."""
    from cervixwatch.app.population_rows import COLUMNS

    connection = _connect()
    try:
        columns = ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
        connection.execute(f"CREATE TABLE rows ({columns})")
        for measure in audit.measures:
            fields = [("denominator", measure.denominator), ("numerator", measure.numerator)]
            fields += [(f"exclusions.{e.id}", e.where) for e in measure.exclusions]
            for name, text in fields:
                try:
                    connection.execute(f"SELECT count(*) FROM rows WHERE {_predicate(text)}")
                except duckdb.Error as error:
                    raise AuditError(
                        f"{audit.source.name}: {measure.id}.{name}: {str(error).splitlines()[0]}"
                    ) from None
    finally:
        connection.close()


def _counts_sql(measure: Measure, quarter_sql: str) -> str:
    excluded = " OR ".join(_predicate(e.where) for e in measure.exclusions) or "FALSE"
    # DuckDB refuses GROUPING() of a column no set groups by: a measure not counted by
    # treatment says so with constants.
    treatment_sets = ", (treatment), (tier, treatment)" if measure.by_treatment else ""
    treatment_columns = (
        "GROUPING(treatment) AS g_treatment, unit, quarter, tier, treatment"
        if measure.by_treatment
        else "1 AS g_treatment, unit, quarter, tier, NULL AS treatment"
    )
    return f"""
        WITH base AS (
            SELECT
                coalesce(unit, '{NO_UNIT}') AS unit,
                coalesce({quarter_sql}, '{NO_EDD}') AS quarter,
                coalesce(risk_tier, '{NO_TIER}') AS tier,
                coalesce(nullif(array_to_string(list_sort(treatments), ' + '), ''),
                         '{NO_TREATMENT}') AS treatment,
                ({measure.denominator}) IS NULL AS undetermined,
                {_predicate(measure.denominator)} AS eligible,
                ({excluded}) AS excluded,
                {_predicate(measure.numerator)} AS met
            FROM rows
        )
        SELECT
            GROUPING(unit) AS g_unit, GROUPING(quarter) AS g_quarter, GROUPING(tier) AS g_tier,
            {treatment_columns},
            count(*) FILTER (WHERE eligible) AS eligible,
            count(*) FILTER (WHERE eligible AND excluded) AS excluded,
            count(*) FILTER (WHERE eligible AND NOT excluded AND met) AS met,
            count(*) FILTER (WHERE undetermined) AS undetermined
        FROM base
        GROUP BY GROUPING SETS ((), (unit), (quarter), (tier), (unit, quarter){treatment_sets})
    """


def _measure_result(
    connection: duckdb.DuckDBPyConnection, measure: Measure, quarter_sql: str
) -> MeasureResult:
    network = Count(0, 0, 0)
    by_unit: dict[str, Count] = {}
    by_quarter: dict[str, Count] = {}
    by_tier: dict[str, Count] = {}
    by_unit_quarter: dict[tuple[str, str], Count] = {}
    by_treatment: dict[str, Count] = {}
    by_tier_treatment: dict[tuple[str, str], Count] = {}
    for row in connection.execute(_counts_sql(measure, quarter_sql)).fetchall():
        grouped = tuple(row[:4])
        unit, quarter, tier, treatment = row[4:8]
        eligible, excluded, met, undetermined = row[8:]
        count = Count(int(eligible), int(excluded), int(met), int(undetermined))
        # GROUPING() is 1 for a column the set does not group by.
        if grouped == (1, 1, 1, 1):
            network = count
        elif grouped == (0, 1, 1, 1):
            by_unit[unit] = count
        elif grouped == (1, 0, 1, 1):
            by_quarter[quarter] = count
        elif grouped == (1, 1, 0, 1):
            by_tier[tier] = count
        elif grouped == (0, 0, 1, 1):
            by_unit_quarter[(unit, quarter)] = count
        elif not (count.eligible or count.undetermined):
            # A treatment group none of whose pregnancies has ended (nor might have) says
            # nothing of an outcome: left out of the treatment tables.
            continue
        elif grouped == (1, 1, 1, 0):
            by_treatment[treatment] = count
        else:
            by_tier_treatment[(tier, treatment)] = count
    p0 = network.rate
    funnel = tuple(
        UnitPoint(
            unit,
            count,
            funnel_position(count.met, count.denominator, p0) if p0 is not None else "within",
        )
        for unit, count in sorted(by_unit.items())
    )
    return MeasureResult(
        measure=measure,
        network=network,
        by_unit=dict(sorted(by_unit.items())),
        by_quarter=dict(sorted(by_quarter.items())),
        by_tier=dict(sorted(by_tier.items())),
        by_unit_quarter=dict(sorted(by_unit_quarter.items())),
        funnel=funnel,
        # "none recorded" last, after the treatments.
        by_treatment=dict(
            sorted(by_treatment.items(), key=lambda kv: (kv[0] == NO_TREATMENT, kv[0]))
        ),
        by_tier_treatment=dict(sorted(by_tier_treatment.items())),
    )


def _literal(text: str) -> str:
    """A SQL string literal of `text` (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


def _parquet_file(source: Path) -> Path:
    if source.is_dir():
        source = source / "assessments.parquet"
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no assessments.parquet (run `population run` first)")
    return source


def run_audit(
    source: Path, audit: AuditDefinition, *, quarters: Quarters = "calendar"
) -> AuditResult:
    """Count every measure of `audit` over the rows at `source` (`assessments.parquet`, or
    the directory `population run --out` wrote it to) of the audit's profile."""
    parquet = _parquet_file(source)
    quarter_sql = _QUARTER_SQL[quarters]
    connection = _connect()
    try:
        missing = missing_columns(connection, parquet)
        if missing:
            raise FileNotFoundError(stale_rows_message(parquet, missing))
        # A view, not a table: each measure reads only the columns it names from the Parquet
        # (a million rows' lengths and states, held as a table, took most of a gigabyte). A
        # view takes no parameters: the two values are quoted as SQL literals.
        connection.execute(
            f"CREATE TEMP VIEW all_rows AS SELECT * FROM read_parquet({_literal(str(parquet))}) "
            f"WHERE profile = {_literal(audit.profile)}"
        )
        connection.execute("CREATE TEMP VIEW rows AS SELECT * FROM all_rows WHERE error IS NULL")
        facts: Sequence[Any] = connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE error IS NOT NULL), "
            # The run's day: an ended pregnancy is assessed on the day it ended.
            "list(DISTINCT as_of ORDER BY as_of) FILTER (WHERE ended_on IS NULL) FROM all_rows"
        ).fetchall()[0]
        refused_by_unit = dict(
            connection.execute(
                f"SELECT coalesce(unit, '{NO_UNIT}'), count(*) FROM all_rows "
                "WHERE error IS NOT NULL GROUP BY ALL ORDER BY 1"
            ).fetchall()
        )
        units = tuple(
            u
            for (u,) in connection.execute(
                f"SELECT DISTINCT coalesce(unit, '{NO_UNIT}') FROM all_rows ORDER BY 1"
            ).fetchall()
        )
        labels = tuple(
            q
            for (q,) in connection.execute(
                f"SELECT DISTINCT coalesce({quarter_sql}, '{NO_EDD}') FROM rows ORDER BY 1"
            ).fetchall()
        )
        results = tuple(_measure_result(connection, m, quarter_sql) for m in audit.measures)
    finally:
        connection.close()
    return AuditResult(
        audit=audit,
        parquet=parquet,
        as_of=tuple(facts[2] or ()),
        quarters=quarters,
        rows=int(facts[0]),
        refused=int(facts[1]),
        units=units,
        quarter_labels=labels,
        measures=results,
        refused_by_unit=refused_by_unit,
    )
