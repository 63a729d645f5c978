"""The entries of a FHIR R4 Bundle as sent: each one's place, `fullUrl`, resource and
`request` (method, url, `ifNoneExist`, `ifMatch`), read once for every caller (the command
line's reader, the import, a transaction or batch). A Bundle that is not one (not JSON, not a
Bundle, a broken entry) is an `UnreadableBundle`, naming the element.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from cervixwatch.clinical.frozen import quick_init
from cervixwatch.interop.fhir_values import BundleError, Where
from cervixwatch.interop.intake import IssueCode
from cervixwatch.knowledge.record_kinds import RECORD_KINDS

#: Bundle types that carry one woman's records to be read (and stored).
BUNDLE_TYPES: Final = frozenset({"collection", "transaction", "searchset", "document"})
#: A FHIR id: 1 to 64 letters, digits, '-' and '.'.
FHIR_ID: Final = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")

#: What a PUT or DELETE names: `Observation/cl-1` or `Observation?identifier=...`.
_TARGET: Final = re.compile(r"^[A-Z][A-Za-z]+(?:/[A-Za-z0-9\-.]{1,64}|\?.+)$")
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})


class UnreadableBundle(BundleError):
    """Not a Bundle that can be read at all (answered 400, not 422)."""


def _unreadable(message: str, path: str | None, code: IssueCode = "structure") -> UnreadableBundle:
    return UnreadableBundle(message, path=path, code=code)


@quick_init
@dataclass(frozen=True, slots=True)
class Request:
    """An entry's `request` (transaction and batch Bundles): what to do with its resource."""

    method: str
    url: str
    if_none_exist: str | None = None
    if_match: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class BundleEntry:
    """One entry of a Bundle as sent: its place, its fullUrl, its resource (a DELETE entry
    may have none: then `{}`) and its request."""

    index: int
    full_url: str | None
    resource: dict[str, Any]
    request: Request | None = None

    @property
    def kind(self) -> str:
        """The resource type: a DELETE's is the one its url names, else its resource's."""
        if self.request is not None and (self.deletes or "resourceType" not in self.resource):
            return self.request.url.split("/")[0].split("?")[0]
        return str(self.resource.get("resourceType", "resource"))

    @property
    def deletes(self) -> bool:
        return self.request is not None and self.request.method == "DELETE"

    @property
    def where(self) -> Where:
        return Where(self.resource or {"resourceType": self.kind}, self.index)

    def path(self, field: str) -> str:
        return f"Bundle.entry[{self.index}].resource.{field}"


def load_bundle(raw: bytes | str) -> dict[str, Any]:
    """Parse Bundle JSON; not JSON, or not a Bundle, is an `UnreadableBundle`."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise _unreadable(f"not valid JSON: {error}", None, "invalid") from None
    if not isinstance(data, dict):
        raise _unreadable("not a FHIR resource: expected a JSON object", None)
    if data.get("resourceType") != "Bundle":
        raise _unreadable(
            f"resourceType: expected 'Bundle', got {data.get('resourceType')!r}", "resourceType"
        )
    return data


def _request(entry: dict[str, Any], index: int) -> Request | None:
    request = entry.get("request")
    if request is None:
        return None
    at = f"Bundle.entry[{index}].request"
    if not isinstance(request, dict):
        raise _unreadable(f"{at}: expected an object", at)
    method, url = request.get("method"), request.get("url")
    if not isinstance(method, str) or method not in _METHODS:
        raise _unreadable(f"{at}.method: {method!r} is not an HTTP verb of FHIR", f"{at}.method")
    if not isinstance(url, str) or not url:
        raise _unreadable(f"{at}.url: missing", f"{at}.url")
    if method in ("DELETE", "PUT") and not _TARGET.match(url):
        raise _unreadable(
            f"{at}.url: {url!r} names no resource (expected Type/id or Type?search)", f"{at}.url"
        )
    extra = {}
    for name, key in (("ifNoneExist", "if_none_exist"), ("ifMatch", "if_match")):
        value = request.get(name)
        if value is not None and not isinstance(value, str):
            raise _unreadable(f"{at}.{name}: expected a string", f"{at}.{name}")
        extra[key] = value
    return Request(str(method), url, **extra)


def _check_target(entry: BundleEntry, request: Request) -> None:
    """A POST names its resource's type; a PUT `Type/id` its type and id (R4 http.html:
    the id in the body SHALL be the id in the URL)."""
    at = f"Bundle.entry[{entry.index}]"
    kind = entry.resource.get("resourceType")
    target = request.url.split("?")[0].rstrip("/")
    named_kind, _, named_id = target.partition("/")
    if request.method in ("POST", "PUT") and named_kind != kind:
        raise _unreadable(
            f"{at}.request.url: {request.url!r} names {named_kind!r}, but the resource is a {kind}",
            f"{at}.request.url",
            "invalid",
        )
    if request.method == "PUT" and "?" not in request.url and entry.resource.get("id") != named_id:
        raise _unreadable(
            f"{at}.resource.id: {entry.resource.get('id')!r} is not the id the request.url "
            f"names ({named_id!r}); an update sends the resource under its own id",
            f"{at}.resource.id",
            "invalid",
        )


def bundle_entries(
    bundle: Mapping[str, Any], types: Collection[str] = BUNDLE_TYPES, *, check_ids: bool = True
) -> list[BundleEntry]:
    """The Bundle's entries in order. Each has a resource with a resourceType, except a DELETE
    entry, which may carry none. `check_ids`: each id is a FHIR id, as one that is stored
    must be (the command line, which stores nothing, reads any string)."""
    kind = bundle.get("type")
    if not isinstance(kind, str) or kind not in types:
        code: IssueCode = "not-supported" if kind in ("batch", "transaction") else "structure"
        raise _unreadable(
            f"Bundle.type: {kind!r} is not one of {', '.join(sorted(types))}", "Bundle.type", code
        )
    raw_entries = bundle.get("entry", [])
    if not isinstance(raw_entries, list):
        raise _unreadable("Bundle.entry: expected a list", "Bundle.entry")
    entries = []
    for index, entry in enumerate(raw_entries):
        at = f"Bundle.entry[{index}]"
        if not isinstance(entry, dict):
            raise _unreadable(f"{at}: expected an entry with a resource", at)
        request = _request(entry, index)
        resource = entry.get("resource")
        if resource is None and request is not None and request.method == "DELETE":
            resource = {}
        elif not isinstance(resource, dict):
            raise _unreadable(f"{at}: expected an entry with a resource", at)
        elif not isinstance(resource.get("resourceType"), str):
            raise _unreadable(f"{at}.resource: missing resourceType", f"{at}.resource")
        full_url = entry.get("fullUrl")
        if full_url is not None and not isinstance(full_url, str):
            raise _unreadable(f"{at}.fullUrl: expected a string", f"{at}.fullUrl")
        found = BundleEntry(index, full_url, resource, request)
        if request is not None and resource:
            _check_target(found, request)
        rid = resource.get("id")
        if check_ids and rid is not None and (not isinstance(rid, str) or not FHIR_ID.match(rid)):
            raise UnreadableBundle(
                f"{found.where.label}: id: {rid!r} is not a FHIR id "
                "(1 to 64 letters, digits, '-' and '.')",
                resource=found.where.label,
                path=found.path("id"),
                code="structure",
            )
        entries.append(found)
    return entries


#: The resources each part of `PregnancyRecords` is read from, and the elements that date it
#: (the first present is the one read: `fhir_bundle`, `fhir_care`).
_SOURCES: Final[Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    k.part: (k.fhir_types, k.dated_by) for k in RECORD_KINDS if k.dated_by
}


def _element(resource: dict[str, Any], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        node: Any = resource
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            return name, node
    return None


def dating_element(
    entries: Collection[BundleEntry], part: str, source_id: str | None, day: dt.date
) -> tuple[BundleEntry, str] | None:
    """The entry a record of `part` was read from, and the element that dates it: the one
    with its id, else (sent without one) the first of its kind dated that day. None when no
    entry is found (a record the reader made, not one sent)."""
    kinds, names = _SOURCES.get(part, ((), ()))
    candidates = [e for e in entries if e.kind in kinds and not e.deletes]
    if source_id is not None:
        named = [e for e in candidates if e.resource.get("id") == source_id]
        candidates = named or candidates
    for entry in candidates:
        found = _element(entry.resource, names)
        named_so = source_id is not None and entry.resource.get("id") == source_id
        if found is not None and (named_so or found[1].startswith(day.isoformat())):
            return entry, found[0]
    return None
