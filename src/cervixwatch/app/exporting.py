"""A woman's stored records as FHIR R4 resources: `$everything`, read by id and search, for
the FHIR facade.

Every resource is written by `interop.fhir_write.bundle_from_records` from the records
`assess` reads (her active pregnancy, else her latest), so an export given to
`cervixwatch assess` yields the assessment CervixWatch makes of the stored records.

Resource ids are CervixWatch's own and stable: each names the row the record is stored in
(`cl-17` is row 17 of the cervical lengths; `exam-5-dilation` the dilation of examination row
5; `review-3` (a Task) row 3 of the reviews of symptom reports; `edd-<pregnancy id>` her
pregnancy's due date; the Patient's id is CervixWatch's id for her). The ids a source sent are
kept with the rows (to recognise the same record sent again) but are unique only to her records
in that source ("cl-1" in every exported Bundle), so they cannot name a resource on this
server. A record's id therefore stays the same while the record
does, and `read_resource` finds a resource by its id alone: the id says which row, the row
whose records to export.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.assessment_fhir import (
    ASSESSMENT_PREFIX,
    ASSESSMENT_TYPES,
    Profiles,
    assessments_as_fhir,
)
from cervixwatch.app.errors import NotFound
from cervixwatch.app.search_index import ARMS, COUNT_PREFIX
from cervixwatch.app.version_meta import stamp
from cervixwatch.interop.fhir_patient import Identifier, identifier_json
from cervixwatch.interop.fhir_values import codes_of
from cervixwatch.interop.fhir_write import bundle_from_records
from cervixwatch.interop.history_counts import COUNTED_AS
from cervixwatch.knowledge.record_kinds import RECORD_KINDS as RECORD_KIND_NAMES
from cervixwatch.knowledge.record_kinds import RECORD_RESOURCE_TYPES
from cervixwatch.store.assessments import assessment_owner
from cervixwatch.store.crud import plausible_id
from cervixwatch.store.exports import (
    PatientExport,
    load_exports,
    patients_by_reference,
    pregnancy_owner,
    row_owner,
    search_patients,
)
from cervixwatch.store.identity import identifiers_of
from cervixwatch.store.models import PatientIdentifierRow, PatientRow
from cervixwatch.store.resource_index import DateTest, Found, ResourceQuery, find_resources
from cervixwatch.store.versions import women_written_since

#: Resource types the facade reads and searches.
RESOURCE_TYPES: Final = (
    "Patient",
    *RECORD_RESOURCE_TYPES,
    # Her stored assessment (`app.assessment_fhir`), id `assessment-<row>`.
    *ASSESSMENT_TYPES,
)

#: The id prefix of each tuple part of the records, and the table its rows are in
#: (`knowledge.record_kinds`; examinations, one resource a finding, are `exam-<row>-<finding>`).
TUPLE_PREFIXES: Final[Mapping[str, tuple[str, str]]] = {
    k.part: (k.id_prefix, k.table)
    for k in RECORD_KIND_NAMES
    if not k.is_set and k.holder is None and k.part != "exams"
}
SET_PREFIXES: Final[Mapping[str, tuple[str, str]]] = {
    k.part: (k.id_prefix, k.table) for k in RECORD_KIND_NAMES if k.is_set
}
#: The id prefix of the records held inside records ({part: {field: (prefix, table)}}): the
#: reviews of a symptom report, each a Task.
INSIDE_PREFIXES: Final[Mapping[str, Mapping[str, tuple[str, str]]]] = {
    holder: {
        k.held_as or k.part: (k.id_prefix, k.table) for k in RECORD_KIND_NAMES if k.holder == holder
    }
    for holder in dict.fromkeys(k.holder for k in RECORD_KIND_NAMES if k.holder)
}
EXAM_PARTS: Final = ("dilation", "effacement", "membranes")
_TABLE_OF_PREFIX = dict(
    (
        *TUPLE_PREFIXES.values(),
        *SET_PREFIXES.values(),
        *(pair for inside in INSIDE_PREFIXES.values() for pair in inside.values()),
        (ASSESSMENT_PREFIX, "assessments"),
    )
)
_ROW_ID = re.compile(
    r"^(?P<prefix>"
    + "|".join(sorted(_TABLE_OF_PREFIX, key=len, reverse=True))
    + r")-(?P<row>\d{1,10})$"
)
_EXAM_ID = re.compile(r"^exam-(?P<row>\d{1,10})-(?P<part>" + "|".join(EXAM_PARTS) + r")$")
_PREGNANCY_ID = re.compile(
    r"^(?P<what>edd|fetuses|chorionicity)-(?P<pregnancy>[0-9A-Za-z-]{1,36})$"
)


@dataclass(frozen=True, slots=True)
class ResourceId:
    """What one of CervixWatch's resource ids names: a row of `table`, or (`table` None) a
    part of the pregnancy `pregnancy_id` (its due date, fetus count or chorionicity)."""

    table: str | None
    row_id: int | None = None
    pregnancy_id: str | None = None


def parse_resource_id(resource_id: str) -> ResourceId | None:
    """What a (non-Patient) resource id of this server names; None if it names nothing."""
    if match := _ROW_ID.match(resource_id):
        return ResourceId(_TABLE_OF_PREFIX[match["prefix"]], int(match["row"]))
    if match := _EXAM_ID.match(resource_id):
        return ResourceId("cervical_exams", int(match["row"]))
    if match := _PREGNANCY_ID.match(resource_id):
        return ResourceId(None, pregnancy_id=match["pregnancy"])
    return None


# --- resources --------------------------------------------------------------------------------


def patient_resource(
    patient_id: str,
    *,
    identifiers: Sequence[Identifier] = (),
    names: Sequence[Mapping[str, Any]] = (),
    family_name: str | None = None,
    given_name: str | None = None,
    gender: str | None = None,
    birth_date: Any = None,
) -> dict[str, Any]:
    """Her Patient resource: CervixWatch's id, every identifier with its system, use and type
    (her hospital number typed MR), her names with their uses (or, registered by a form, the
    name the form gave), her gender and birth date."""
    resource: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    if identifiers:
        resource["identifier"] = [identifier_json(i) for i in identifiers]
    if names:
        resource["name"] = [dict(n) for n in names]
    else:
        name: dict[str, Any] = {}
        if family_name:
            name["family"] = family_name
        if given_name and given_name.split():
            name["given"] = given_name.split()
        if name:
            resource["name"] = [name]
    if gender is not None:
        resource["gender"] = gender
    if birth_date is not None:
        resource["birthDate"] = birth_date.isoformat()
    return resource


def _identifiers(rows: Iterable[PatientIdentifierRow]) -> list[Identifier]:
    return [
        Identifier(
            row.value,
            row.system,
            row.use.value if row.use is not None else None,
            row.type_system,
            row.type_code,
            row.type_text,
        )
        for row in rows
    ]


def _patient_of(row: PatientRow, identifiers: Iterable[PatientIdentifierRow]) -> dict[str, Any]:
    return patient_resource(
        row.id,
        identifiers=_identifiers(identifiers),
        names=row.names or (),
        family_name=row.family_name,
        given_name=row.given_name,
        gender=row.gender.value if row.gender is not None else None,
        birth_date=row.birth_date,
    )


def patients_as_fhir(session: Session, rows: Sequence[PatientRow]) -> list[dict[str, Any]]:
    """The Patient resources of stored women, in the order given."""
    identifiers = identifiers_of(session, [row.id for row in rows])
    return [_patient_of(row, identifiers.get(row.id, ())) for row in rows]


def resources_of(export: PatientExport) -> list[dict[str, Any]]:
    """Her Patient and every record of the exported pregnancy as FHIR resources, ids naming
    their rows."""
    return [resource for resource, _ in sourced_resources(export)]


def sourced_resources(export: PatientExport) -> list[tuple[dict[str, Any], str | None]]:
    """`resources_of`, each resource with the id its record had in its source (None if it had
    none)."""
    records = export.records
    parts: dict[str, Any] = {}
    sources: dict[str, str | None] = {}
    for part, (prefix, _table) in TUPLE_PREFIXES.items():
        items = getattr(records, part)
        rows = export.rows[part]
        parts[part] = tuple(
            replace(item, source_id=f"{prefix}-{row.row_id}")
            for item, row in zip(items, rows, strict=True)
        )
        sources.update((f"{prefix}-{row.row_id}", row.source_ref) for row in rows)
        for field_name, (inside_prefix, _) in INSIDE_PREFIXES.get(part, {}).items():
            held_rows = export.inside[part]
            parts[part] = tuple(
                replace(
                    item,
                    **{
                        field_name: tuple(
                            replace(held, source_id=f"{inside_prefix}-{ref.row_id}")
                            for held, ref in zip(
                                getattr(item, field_name), refs[field_name], strict=True
                            )
                        )
                    },
                )
                for item, refs in zip(parts[part], held_rows, strict=True)
            )
            sources.update(
                (f"{inside_prefix}-{ref.row_id}", ref.source_ref)
                for refs in held_rows
                for ref in refs[field_name]
            )
    # Ids `bundle_from_records` gives records it has no id for, and what they become here.
    renamed: dict[str, str] = {}
    for i, row in enumerate(export.rows["exams"]):
        for part in EXAM_PARTS:
            renamed[f"exam-{i}-{part}"] = f"exam-{row.row_id}-{part}"
            sources[f"exam-{row.row_id}-{part}"] = row.source_ref
    for part, (prefix, _table) in SET_PREFIXES.items():
        for code, row in export.codes[part].items():
            renamed[str(code.value)] = f"{prefix}-{row.row_id}"
    if export.pregnancy_id is not None:
        renamed["edd"] = f"edd-{export.pregnancy_id}"
        renamed["fetuses"] = f"fetuses-{export.pregnancy_id}"
        renamed["chorionicity"] = f"chorionicity-{export.pregnancy_id}"
    patient = patient_resource(
        export.patient_id,
        identifiers=_identifiers(export.identifiers),
        names=export.names,
        family_name=export.family_name,
        given_name=export.given_name,
        gender=export.gender,
        birth_date=export.birth_date,
    )
    bundle = bundle_from_records(replace(records, **parts), patient)
    out: list[tuple[dict[str, Any], str | None]] = []
    for entry in bundle["entry"]:
        resource: dict[str, Any] = entry["resource"]
        if resource["resourceType"] != "Patient":
            resource["id"] = renamed.get(resource["id"], resource["id"])
        out.append((resource, sources.get(resource["id"])))
    return out


def searchset(
    resources: Sequence[Mapping[str, Any]],
    *,
    base: str = "",
    total: int | None = None,
    links: Sequence[Mapping[str, str]] = (),
    included: Sequence[Mapping[str, Any]] = (),
    outcome: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A searchset Bundle of `resources`, each entry with its fullUrl (`base`/Type/id) and
    search mode `match`, then the `included` ones (mode `include`) and an OperationOutcome
    (mode `outcome`). No match: no `entry` at all (FHIR JSON has no empty arrays)."""
    prefix = f"{base.rstrip('/')}/" if base else ""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None or not links:
        bundle["total"] = len(resources) if total is None else total
    if links:
        bundle["link"] = [dict(link) for link in links]
    entries = [
        {
            "fullUrl": f"{prefix}{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": mode},
        }
        for rs, mode in ((resources, "match"), (included, "include"))
        for r in rs
    ]
    if outcome is not None:
        entries.append({"resource": dict(outcome), "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


# --- use cases --------------------------------------------------------------------------------


def _export(
    session: Session, patient_id: str, pregnancy_id: str | None = None
) -> PatientExport | None:
    pregnancies = {patient_id: pregnancy_id} if pregnancy_id else None
    exports = load_exports(session, [patient_id], pregnancies=pregnancies)
    return exports[0] if exports else None


def everything(
    sessions: sessionmaker[Session],
    patient_id: str,
    *,
    base: str = "",
    types: Iterable[str] | None = None,
    profiles: Profiles | None = None,
) -> dict[str, Any]:
    """`Patient/{id}/$everything`: her Patient and the records of her active (else latest)
    pregnancy as a searchset Bundle (only `types`, when given), then (given the `profiles` in
    use) the resources of that pregnancy's stored assessment."""
    with sessions() as session:
        export = _export(session, patient_id)
        if export is None:
            raise NotFound(f"no Patient/{patient_id}")
        resources = exported_resources(session, [export], types=types, profiles=profiles)[0][1]
    return searchset(resources, base=base)


def exported_resources(
    session: Session,
    exports: Sequence[PatientExport],
    *,
    types: Iterable[str] | None = None,
    profiles: Profiles | None = None,
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each woman's resources as `$everything` gives them (and a Bulk Data `$export` writes
    them): her Patient, her pregnancy's records and (given `profiles`) its stored assessment's
    resources, only `types` when given, each stamped with its version; (patient id, resources)
    in the order of `exports`."""
    wanted = set(types) if types is not None else None
    assessed: dict[str, list[dict[str, Any]]] = {}
    if profiles is not None and (wanted is None or not set(ASSESSMENT_TYPES).isdisjoint(wanted)):
        assessed = assessments_as_fhir(session, exports, profiles)
    out = []
    for export in exports:
        resources = resources_of(export) + assessed.get(export.patient_id, [])
        if wanted is not None:
            resources = [r for r in resources if r["resourceType"] in wanted]
        stamp(session, [(export.patient_id, r) for r in resources])
        out.append((export.patient_id, resources))
    return out


def read_resource(
    sessions: sessionmaker[Session],
    resource_type: str,
    resource_id: str,
    *,
    profiles: Profiles | None = None,
) -> dict[str, Any]:
    """One resource by type and id; `NotFound` if there is none (or it is no longer part of
    the records: an order stopped on no known day). An assessment's resources are read with
    the `profiles` in use (none without them)."""
    with sessions() as session:
        found = find_resource(session, resource_type, resource_id, profiles=profiles)
        if found is None:
            raise NotFound(f"no {resource_type}/{resource_id}")
        stamp(session, [found])
    return found[1]


def find_resource(
    session: Session,
    resource_type: str,
    resource_id: str,
    *,
    profiles: Profiles | None = None,
) -> tuple[str, dict[str, Any]] | None:
    """`read_resource` in a session: (her id, the resource as served, without its version),
    or None if there is none."""
    if resource_type == "Patient":
        row = session.get(PatientRow, resource_id) if plausible_id(resource_id) else None
        return None if row is None else (row.id, patients_as_fhir(session, [row])[0])
    export = _owner_export(session, resource_id)
    found: list[dict[str, Any]] = []
    if export is not None and resource_type in ASSESSMENT_TYPES:
        if profiles is not None:
            found = assessments_as_fhir(session, [export], profiles)[export.patient_id]
    elif export is not None:
        found = resources_of(export)
    for resource in found:
        if resource["resourceType"] == resource_type and resource["id"] == resource_id:
            assert export is not None
            return export.patient_id, resource
    return None


def _owner(session: Session, resource_id: str) -> tuple[str, str | None] | None:
    """(patient id, pregnancy id or None) of the record a resource id names."""
    named = parse_resource_id(resource_id)
    if named is None:
        return None
    if named.table is None:
        assert named.pregnancy_id is not None
        patient_id = pregnancy_owner(session, named.pregnancy_id)
        return None if patient_id is None else (patient_id, named.pregnancy_id)
    assert named.row_id is not None
    if named.table == "assessments":
        return assessment_owner(session, named.row_id)
    return row_owner(session, named.table, named.row_id)


def owner_of_resource(session: Session, resource_type: str, resource_id: str) -> str | None:
    """The id of the woman a resource of this server belongs to; None if it names none."""
    if resource_type == "Patient":
        if not plausible_id(resource_id) or session.get(PatientRow, resource_id) is None:
            return None
        return resource_id
    owner = _owner(session, resource_id)
    return None if owner is None else owner[0]


def _owner_export(session: Session, resource_id: str) -> PatientExport | None:
    owner = _owner(session, resource_id)
    return None if owner is None else _export(session, *owner)


# --- search -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """A token search value: `system|code`, `code` (any system) or `system|` (any code)."""

    system: str | None
    code: str | None

    @classmethod
    def parse(cls, text: str) -> Token:
        if "|" not in text:
            return cls(None, text)
        system, code = text.split("|", 1)
        return cls(system, code or None)

    def matches(self, codes: set[tuple[str, str]]) -> bool:
        return any(
            (self.system is None or system == self.system)
            and (self.code is None or code == self.code)
            for system, code in codes
        )


@dataclass(frozen=True, slots=True)
class Criteria:
    """What a search asks for; each list is one parameter (its values ORed), every parameter
    given must match (AND). None: the parameter was not given. `tokens` holds the record
    searches' token parameters by name (`code` as Tokens; `status`, `clinical-status`,
    `questionnaire` as plain values); `dates` the date parameters, ANDed; `sort` one of
    "default", "date", "-date", "_id", "-_id"."""

    ids: Sequence[str] | None = None
    patients: Sequence[Sequence[str]] | None = None
    codes: Sequence[Sequence[Token]] | None = None
    questionnaires: Sequence[Sequence[str]] | None = None
    tokens: Mapping[str, Sequence[Sequence[str]]] = field(default_factory=dict)
    dates: Sequence[DateTest] = ()
    sort: str = "default"
    # Patient searches
    identifiers: Sequence[Sequence[Token]] | None = None
    family: str | None = None
    given: str | None = None
    birth_date: Any = None
    #: `_lastUpdated`: only what changed since `changed_since` (inclusive unless `strictly`).
    changed_since: dt.datetime | None = None
    strictly: bool = False


@dataclass(frozen=True, slots=True)
class SearchResult:
    resources: list[dict[str, Any]]
    total: int | None


def _code_keys(resource_type: str, tokens: Sequence[Token]) -> list[Any]:
    """The (system, code) pairs the type's resources carry that any of `tokens` names."""
    keys = {key for arm in ARMS[resource_type] for key in arm.codes}
    return [key for key in keys if any(t.matches({key}) for t in tokens)]


def _resource_query(session: Session, resource_type: str, criteria: Criteria) -> ResourceQuery:
    values: dict[str, list[list[Any]]] = {}
    for tokens in criteria.codes or ():
        values.setdefault("code", []).append(_code_keys(resource_type, tokens))
    for urls in criteria.questionnaires or ():
        values.setdefault("questionnaire", []).append([url.split("|")[0] for url in urls])
    for name, wanted in criteria.tokens.items():
        values.setdefault(name, []).extend([list(v) for v in wanted])
    patients = None
    if criteria.patients is not None:
        patients = [
            sorted({p for ref in references for p in patients_by_reference(session, ref)})
            for references in criteria.patients
        ]
    return ResourceQuery(
        values=values,
        ids=criteria.ids,
        patients=patients,
        dates=criteria.dates,
        sort=criteria.sort,
    )


def _page_resources(
    session: Session, resource_type: str, found: Sequence[Found], profiles: Profiles | None
) -> list[dict[str, Any]]:
    """The resources `found` names, in that order: only the page's women are exported."""
    wanted = list(dict.fromkeys((f.patient_id, f.pregnancy_id) for f in found))
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    while wanted:
        # One pregnancy per woman a round (a search by ids may name two of hers).
        chosen: dict[str, str | None] = {}
        rest = []
        for patient_id, pregnancy_id in wanted:
            if patient_id in chosen:
                rest.append((patient_id, pregnancy_id))
            else:
                chosen[patient_id] = pregnancy_id
        wanted = rest
        pregnancies = {p: g for p, g in chosen.items() if g is not None}
        exports = load_exports(session, list(chosen), pregnancies=pregnancies)
        if resource_type in ASSESSMENT_TYPES:
            assessed = assessments_as_fhir(session, exports, profiles) if profiles else {}
            keyed = [(e.patient_id, r) for e in exports for r in assessed.get(e.patient_id, ())]
        else:
            keyed = [(e.patient_id, r) for e in exports for r in resources_of(e)]
        for patient_id, resource in keyed:
            if resource["resourceType"] != resource_type:
                continue
            by_key.setdefault((patient_id, resource["id"]), resource)
            for words, code in COUNTED_AS.items():
                if (code[0], code[1]) in codes_of(resource.get("code")):
                    by_key.setdefault((patient_id, f"{COUNT_PREFIX}-{words}"), resource)
    page = [
        (f.patient_id, by_key[(f.patient_id, f.resource_id)])
        for f in found
        if (f.patient_id, f.resource_id) in by_key
    ]
    stamp(session, page)
    return [resource for _, resource in page]


def search(
    sessions: sessionmaker[Session],
    resource_type: str,
    criteria: Criteria,
    *,
    count: int,
    offset: int = 0,
    scope: Scope | None = None,
    profiles: Profiles | None = None,
    total: bool = True,
) -> SearchResult:
    """Resources of `resource_type` matching `criteria`: one page (`count` from `offset`) and
    the total (when `total`), among the women `scope` may see (None: all). Records are those
    of each woman's active (else latest) pregnancy; an assessment's resources, that
    pregnancy's stored assessment's, made with the `profiles` in use (none without them).

    The page is chosen in SQL (`store.resource_index`) and only its women are exported."""
    if criteria.changed_since is not None:
        return _search_changed(
            sessions, resource_type, criteria, count=count, offset=offset, scope=scope
        )
    if resource_type == "Patient":
        return _search_patients(sessions, criteria, count=count, offset=offset, scope=scope)
    with sessions() as session:
        query = _resource_query(session, resource_type, criteria)
        found, how_many = find_resources(
            session,
            ARMS[resource_type],
            query,
            scope=scope,
            limit=count,
            offset=offset,
            count=total,
        )
        resources = _page_resources(session, resource_type, found, profiles)
    return SearchResult(resources, how_many)


#: The most resources a `_lastUpdated` search weighs (changed since a moment, among the women
#: written since): more, and it is refused, asking for a later moment.
CHANGED_MAX: Final = 10_000


class TooManyChanges(ValueError):
    """A `_lastUpdated` search that would weigh more than `CHANGED_MAX` resources."""


def _search_changed(
    sessions: sessionmaker[Session],
    resource_type: str,
    criteria: Criteria,
    *,
    count: int,
    offset: int,
    scope: Scope | None,
) -> SearchResult:
    """What changed since a moment (`_lastUpdated=ge|gt`). A resource's `lastUpdated` is worked
    out as it is made (`app.version_meta`) and is never later than its woman's last write, so
    the women written since are found in SQL and only their resources (matching the rest of
    the criteria) are made and weighed: the work is bounded by what changed, not by the
    registry."""
    since = criteria.changed_since
    assert since is not None
    with sessions() as session:
        women = women_written_since(session, since)
    if not women:
        return SearchResult([], 0)
    narrowed = replace(
        criteria,
        patients=[*(criteria.patients or ()), women],
        changed_since=None,
        strictly=False,
    )
    weighed = search(
        sessions, resource_type, narrowed, count=CHANGED_MAX, offset=0, scope=scope, total=True
    )
    if (weighed.total or 0) > CHANGED_MAX:
        raise TooManyChanges(
            f"_lastUpdated: more than {CHANGED_MAX} {resource_type} resources of women written "
            "since then; ask for a later moment, or narrow the search"
        )

    def changed(resource: Mapping[str, Any]) -> bool:
        stamped = (resource.get("meta") or {}).get("lastUpdated")
        if not isinstance(stamped, str):
            return False
        moment = dt.datetime.fromisoformat(stamped)
        return moment > since if criteria.strictly else moment >= since

    matches = [r for r in weighed.resources if changed(r)]
    return SearchResult(matches[offset : offset + count], len(matches))


def _search_patients(
    sessions: sessionmaker[Session],
    criteria: Criteria,
    *,
    count: int,
    offset: int,
    scope: Scope | None = None,
) -> SearchResult:
    with sessions() as session:
        ids: list[str] | None = list(criteria.ids) if criteria.ids is not None else None
        for references in criteria.patients or ():
            named = {p for ref in references for p in patients_by_reference(session, ref)}
            ids = sorted(named) if ids is None else [i for i in ids if i in named]
        rows, total = search_patients(
            session,
            ids=ids,
            scope=scope,
            # FHIR token search: `value` under any system, `system|value`, `system|` (any value
            # of the system), `|value` (a value sent without a system).
            identifiers=[[(t.system, t.code) for t in tokens] for tokens in criteria.identifiers]
            if criteria.identifiers
            else None,
            family=criteria.family,
            given=criteria.given,
            birth_date=criteria.birth_date,
            limit=count,
            offset=offset,
        )
        resources = patients_as_fhir(session, rows)
        stamp(session, [(r["id"], r) for r in resources])
    return SearchResult(resources, total)


def patients_by_id(
    sessions: sessionmaker[Session], ids: Sequence[str], *, scope: Scope | None = None
) -> list[dict[str, Any]]:
    """The Patient resources of the women `ids` names that `scope` may see (None: all), for a
    search's `_include`."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    with sessions() as session:
        rows, _ = search_patients(session, ids=wanted, scope=scope, limit=len(wanted), offset=0)
        resources = patients_as_fhir(session, rows)
        stamp(session, [(r["id"], r) for r in resources])
        return resources
