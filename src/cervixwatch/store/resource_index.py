"""Which FHIR resources the stored rows become, as SQL: searches choose and page them in the
database, so a search's time and memory are bounded by its page, not by the registry
(issue 12, F1).

An `Arm` is one way rows become resources of one type: a table (joined to the pregnancy it
belongs to, and that pregnancy to the woman), the id each row's resource has, and what its
code, status and date are in terms of the row's columns. `find_resources` asks the union of
the arms a search names, among the women a scope may see and (unless ids are asked for) in
each woman's active (else latest) pregnancy, as `exports.load_exports` exports them; it answers
one page of (woman, pregnancy, resource id) and the count, and the caller exports only the
page's women. Which arms exist and what codes they carry is the FHIR mapping's business
(`app.search_index`); this module only turns them into SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from cervixwatch.access.principal import Scope
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.models import PregnancyRow, PregnancyStatus

__all__ = [
    "Arm",
    "DateTest",
    "Found",
    "ResourceQuery",
    "find_resources",
]

Condition = Callable[[], Any]  # a boolean SQL expression
#: {a value the resource can have (a (system, code) pair, a status): the rows that have it,
#: None for every row of the arm}.
Values = Mapping[Any, Condition | None]


@dataclass(frozen=True, slots=True)
class Arm:
    """Rows of `table` as resources of `resource_type`, each with the id `<prefix>-<key>`
    followed by `suffix`, where key is the row's id (`owner` "patient" or "pregnancy": the
    table has that foreign key; "child": the row is held by a row of `parent`, named by
    `parent_column`) or, `owner` "pregnancy-row", the pregnancy's own id (the table is the
    pregnancies'). `codes` and `statuses` say which rows carry which code and status;
    `date` is the column of the resource's date (None: it has no searchable day); `where`
    limits the rows that become a resource at all. `key` overrides the id's key (e.g. a code
    that names a resource whose id the store does not know)."""

    resource_type: str
    table: Any
    owner: Literal["patient", "pregnancy", "pregnancy-row", "child"]
    prefix: str
    codes: Values
    statuses: Values
    date: Callable[[], Any] | None = None  # a column of days
    suffix: str = ""
    where: Condition | None = None
    parent: Any = None
    parent_column: str = ""
    #: Named parameters this arm answers besides code/status/date: {name: Values}.
    tokens: Mapping[str, Values] | None = None
    key: Callable[[], Any] | None = None  # a column of text
    #: Rows are grouped by (owner, key): one resource per group (counts written back).
    grouped: bool = False


@dataclass(frozen=True, slots=True)
class DateTest:
    """A date parameter: `prefix` (eq, ne, lt, le, gt, ge, sa, eb) and the days its value
    covers, from `low` to `high` (a year, a month or one day)."""

    prefix: str
    low: dt.date
    high: dt.date

    def condition(self, column: ColumnElement[Any]) -> ColumnElement[bool]:
        within = and_(column >= self.low, column <= self.high)
        test: ColumnElement[bool]
        match self.prefix:
            case "eq":
                test = within
            case "ne":
                test = not_(within)
            case "lt" | "eb":
                test = column < self.low
            case "gt" | "sa":
                test = column > self.high
            case "le":
                test = column <= self.high
            case "ge":
                test = column >= self.low
            case _:
                raise ValueError(self.prefix)
        return and_(column.is_not(None), test)


@dataclass(frozen=True, slots=True)
class ResourceQuery:
    """What to find: each list of `values` one parameter (ORed within, ANDed across), over
    the arms' `codes` ("code"), `statuses` ("status") or `tokens` (by name); the resources'
    ids (`ids`: {arm prefix: row keys}, None: any); the women (`patients`, each list one
    parameter; None: any); `dates` ANDed on each arm's date; `sort` ("default", "date",
    "-date", "_id")."""

    values: Mapping[str, Sequence[Sequence[Any]]]
    ids: Sequence[str] | None = None
    patients: Sequence[Sequence[str]] | None = None
    dates: Sequence[DateTest] = ()
    sort: str = "default"


@dataclass(frozen=True, slots=True)
class Found:
    """One resource of a page: whose, which pregnancy's (None: hers alone), its type and id."""

    patient_id: str
    pregnancy_id: str | None
    resource_type: str
    resource_id: str


def _default_pregnancies(scope: Scope | None, patients: Any) -> Any:
    """(pregnancy id, patient id) of each woman's active pregnancy, else the one recorded last
    (as `exports._default_pregnancies` chooses), among those `scope` may see."""
    rank = (
        func.row_number()
        .over(
            partition_by=PregnancyRow.patient_id,
            order_by=(
                case((PregnancyRow.status == PregnancyStatus.ACTIVE, 0), else_=1),
                PregnancyRow.created_at.desc(),
                PregnancyRow.id.desc(),
            ),
        )
        .label("rank")
    )
    ranked = select(PregnancyRow.id, PregnancyRow.patient_id, rank)
    if scope is not None:
        ranked = ranked.where(in_scope(PregnancyRow.patient_id, scope))
    if patients is not None:
        ranked = ranked.where(PregnancyRow.patient_id.in_(patients))
    inner = ranked.subquery()
    return select(inner.c.id, inner.c.patient_id).where(inner.c.rank == 1).subquery()


def _chosen(
    values: Values, wanted: Sequence[Sequence[Any]]
) -> ColumnElement[bool] | Literal[False] | None:
    """The condition that an arm's rows carry one of each parameter's values (AND across
    parameters); None: no condition; False: the arm has none of them."""
    conditions: list[ColumnElement[bool]] = []
    for alternatives in wanted:
        matched = [values[v] for v in alternatives if v in values]
        if not matched:
            return False
        if any(m is None for m in matched):
            continue
        conditions.append(or_(*(m() for m in matched if m is not None)))
    return and_(*conditions) if conditions else None


def _arm_select(
    number: int, arm: Arm, query: ResourceQuery, scope: Scope | None, patients: Any
) -> Select[Any] | None:
    where: list[ColumnElement[bool]] = []
    for name, wanted in query.values.items():
        values = (
            arm.codes
            if name == "code"
            else arm.statuses
            if name == "status"
            else (arm.tokens or {}).get(name, {})
        )
        chosen = _chosen(values, wanted)
        if chosen is False:
            return None
        if chosen is not None:
            where.append(chosen)
    table = arm.table
    day: ColumnElement[Any] = arm.date() if arm.date is not None else cast(null(), Date)
    if query.dates:
        if arm.date is None:
            return None
        where.extend(test.condition(day) for test in query.dates)
    if arm.where is not None:
        where.append(arm.where())
    chosen_pregnancy = None if query.ids is not None else _default_pregnancies(scope, patients)
    if arm.owner == "patient":
        patient_col: Any = table.patient_id
        pregnancy_col: Any = cast(null(), String)
        row_key: Any = table.id
        base = select(table)
    else:
        if arm.owner == "pregnancy-row":
            pregnancy_ref, row_key = table.id, table.id
            base = select(table)
        elif arm.owner == "child":
            parent = arm.parent
            pregnancy_ref, row_key = parent.pregnancy_id, table.id
            base = select(table).join(parent, parent.id == getattr(table, arm.parent_column))
        else:
            pregnancy_ref, row_key = table.pregnancy_id, table.id
            base = select(table)
        if chosen_pregnancy is not None:
            base = base.join(chosen_pregnancy, chosen_pregnancy.c.id == pregnancy_ref)
            patient_col, pregnancy_col = chosen_pregnancy.c.patient_id, chosen_pregnancy.c.id
        elif arm.owner == "pregnancy-row":
            patient_col, pregnancy_col = table.patient_id, table.id
        else:
            base = base.join(PregnancyRow, PregnancyRow.id == pregnancy_ref)
            patient_col, pregnancy_col = PregnancyRow.patient_id, PregnancyRow.id
    if arm.owner == "patient" or chosen_pregnancy is None:
        if scope is not None:
            where.append(in_scope(patient_col, scope))
        if patients is not None:
            where.append(patient_col.in_(patients))
    key: Any = arm.key() if arm.key is not None else cast(row_key, String)
    resource_id = literal(f"{arm.prefix}-") + key + literal(arm.suffix)
    if query.ids is not None:
        named = [
            i[len(arm.prefix) + 1 : len(i) - len(arm.suffix)]
            for i in query.ids
            if i.startswith(f"{arm.prefix}-") and i.endswith(arm.suffix)
        ]
        if not named:
            return None
        if arm.key is None and arm.owner != "pregnancy-row":
            rows = [int(n) for n in named if n.isascii() and n.isdigit() and len(n) <= 9]
            if not rows:
                return None
            where.append(row_key.in_(rows))
        else:
            where.append(key.in_(named))
    order_no: Any = literal(0, Integer) if arm.grouped or arm.key is not None else row_key
    if arm.owner == "pregnancy-row":
        order_no = literal(0, Integer)
    columns = (
        literal(number, Integer).label("arm"),
        patient_col.label("patient_id"),
        pregnancy_col.label("pregnancy_id"),
        resource_id.label("resource_id"),
        (func.min(day) if arm.grouped else day).label("day"),
        order_no.label("row_no"),
    )
    query_ = base.with_only_columns(*columns).where(*where)
    if arm.grouped:
        query_ = query_.group_by(patient_col, pregnancy_col, resource_id)
    return query_


def find_resources(
    session: Session,
    arms: Sequence[Arm],
    query: ResourceQuery,
    *,
    scope: Scope | None,
    limit: int,
    offset: int,
    count: bool = True,
) -> tuple[list[Found], int | None]:
    """One page (`limit` from `offset`) of the resources of `arms` that match `query`, among
    the women `scope` may see (None: all), and how many there are (when `count`)."""
    patients = None
    if query.patients is not None:
        named: set[str] | None = None
        for alternatives in query.patients:
            these = set(alternatives)
            named = these if named is None else named & these
        patients = sorted(named or ())
        if not patients:
            return [], 0
    selects = [
        s
        for n, arm in enumerate(arms)
        if (s := _arm_select(n, arm, query, scope, patients)) is not None
    ]
    if not selects:
        return [], 0
    union = union_all(*selects).subquery() if len(selects) > 1 else selects[0].subquery()
    total = None
    if count:
        total = int(session.scalar(select(func.count()).select_from(union)) or 0)
    if limit == 0:
        return [], total
    c = union.c
    stable = (c.patient_id, c.arm, c.row_no, c.resource_id)
    order: tuple[Any, ...]
    match query.sort:
        case "date":
            order = (c.day.is_(None), c.day, *stable)
        case "-date":
            order = (c.day.is_(None), c.day.desc(), *stable)
        case "_id":
            order = (c.resource_id, c.patient_id)
        case "-_id":
            order = (c.resource_id.desc(), c.patient_id)
        case _:
            order = stable
    page = session.execute(
        select(c.arm, c.patient_id, c.pregnancy_id, c.resource_id)
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    found = [
        Found(patient_id, pregnancy_id, arms[arm].resource_type, resource_id)
        for arm, patient_id, pregnancy_id, resource_id in page
    ]
    return found, total
