"""A FHIR search's parameters as the search use case takes them (`app.exporting.Criteria`):
the search routes' and the write routes' conditions (`If-None-Exist`, `PUT Type?search`,
conditional references) read them alike."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from cervixwatch.app.exporting import Criteria, Token
from cervixwatch.app.rows import DateTest
from cervixwatch.interop.fhir_codes import OBSERVATION_CATEGORY_SYSTEM
from cervixwatch.web.fhir.http import FhirError
from cervixwatch.web.fhir.metadata import DATE_PARAMS


def values_of(values: Sequence[str] | None) -> list[list[str]] | None:
    """Each parameter's comma-separated values (OR), one list per repetition (AND)."""
    if values is None:
        return None
    return [[v for v in value.split(",") if v] for value in values]


_DATE = re.compile(
    r"(?P<prefix>eq|ne|lt|le|gt|ge|sa|eb)?(?P<year>[0-9]{4})(-(?P<month>[0-9]{2})"
    r"(-(?P<day>[0-9]{2})(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?"
)


def date_test(name: str, text: str) -> DateTest:
    """A date parameter's value (`ge2026-03`): its prefix and the days it covers."""
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        year, month, day = int(match["year"]), match["month"], match["day"]
        if day is not None:
            low = high = dt.date(year, int(month), int(day))
        elif month is not None:
            low = dt.date(year, int(month), 1)
            high = dt.date(year + int(month) // 12, int(month) % 12 + 1, 1) - dt.timedelta(1)
        else:
            low, high = dt.date(year, 1, 1), dt.date(year, 12, 31)
    except ValueError:
        raise FhirError(
            400,
            f"{name}={text!r}: expected a prefix (eq, ne, lt, le, gt, ge, sa, eb) and a date "
            "(YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)",
            "value",
            expression=name,
        ) from None
    return DateTest(match["prefix"] or "eq", low, high)


def criteria_of(resource_type: str, params: dict[str, list[str]]) -> Criteria:
    ids = values_of(params.get("_id"))
    patients = values_of([*params.get("patient", []), *params.get("subject", [])] or None)
    codes = values_of(params.get("code"))
    birth_date = None
    if "birthdate" in params:
        text = params["birthdate"][-1].removeprefix("eq")
        try:
            birth_date = dt.date.fromisoformat(text)
        except ValueError:
            raise FhirError(
                400, f"birthdate={params['birthdate'][-1]!r}: expected a date (eq only)", "value"
            ) from None
    identifiers = values_of(params.get("identifier"))
    tokens: dict[str, Sequence[Sequence[str]]] = {
        name: values_of(params[name]) or []
        for name in ("status", "clinical-status")
        if name in params
    }
    if "category" in params:
        # A category is searched as `code` or `system|code` of FHIR's own category system.
        tokens["category"] = [
            [_category_code(value) for value in values]
            for values in values_of(params["category"]) or []
        ]
    date_name = DATE_PARAMS.get(resource_type)
    dates = [date_test(date_name, v) for v in params.get(date_name, [])] if date_name else []
    sort = "default"
    if "_sort" in params:
        sort = params["_sort"][-1]
        allowed = ["_id", "-_id", *([date_name, f"-{date_name}"] if date_name else [])]
        if sort not in allowed:
            raise FhirError(
                400,
                f"_sort={sort!r}: {resource_type} is sorted by {', '.join(allowed)}",
                "not-supported",
                expression="_sort",
            )
        sort = sort.replace(date_name or "_id", "date") if sort not in ("_id", "-_id") else sort
    changed_since, strictly = _last_updated(params.get("_lastUpdated", []))
    return Criteria(
        ids=sorted({i for values in ids for i in values}) if ids is not None else None,
        patients=patients,
        codes=[[Token.parse(v) for v in values] for values in codes] if codes else None,
        questionnaires=values_of(params.get("questionnaire")),
        tokens=tokens,
        dates=dates,
        sort=sort,
        identifiers=[[Token.parse(v) for v in values] for values in identifiers]
        if identifiers
        else None,
        family=params["family"][-1] if "family" in params else None,
        given=params["given"][-1] if "given" in params else None,
        birth_date=birth_date,
        changed_since=changed_since,
        strictly=strictly,
    )


def _category_code(value: str) -> str:
    system, bar, code = value.rpartition("|")
    if not bar:
        return value
    # Another system's code matches nothing (no category carries it).
    return code if system in ("", OBSERVATION_CATEGORY_SYSTEM) else f"{system}|{code}"


_INSTANT = re.compile(r"(?P<prefix>[a-z]{2})?(?P<moment>[0-9]{4}-[0-9]{2}-[0-9]{2}(T.+)?)")


def _last_updated(values: Sequence[str]) -> tuple[dt.datetime | None, bool]:
    """`_lastUpdated` (each value `ge`, `gt` or `sa` and a day or an instant; several are
    ANDed): the latest moment given, and whether it is excluded. A day given to `ge` starts at
    its midnight (UTC); to `gt` or `sa`, what is after it starts at the next midnight."""
    since: dt.datetime | None = None
    strictly = False
    for value in values:
        match = _INSTANT.fullmatch(value)
        prefix = (match["prefix"] or "eq") if match else ""
        if match is None or prefix not in ("ge", "gt", "sa"):
            raise FhirError(
                400,
                f"_lastUpdated={value!r}: what changed since a moment: ge, gt or sa and a day "
                "(YYYY-MM-DD) or an instant (2026-12-06T09:00:00Z); only those are searched",
                "not-supported",
                expression="_lastUpdated",
            )
        text = match["moment"]
        try:
            if "T" in text:
                moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
                if moment.tzinfo is None:
                    raise ValueError(text)
                exclusive = prefix != "ge"
            else:
                day = dt.date.fromisoformat(text)
                if prefix != "ge":
                    day += dt.timedelta(days=1)
                moment = dt.datetime.combine(day, dt.time(), dt.UTC)
                exclusive = False
        except ValueError:
            raise FhirError(
                400,
                f"_lastUpdated={value!r}: not a day or an instant with its time zone",
                "value",
                expression="_lastUpdated",
            ) from None
        if since is None or moment > since or (moment == since and exclusive):
            since, strictly = moment, exclusive
    return since, strictly
