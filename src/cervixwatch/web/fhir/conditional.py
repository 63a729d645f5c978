"""FHIR's conditional interactions in a transaction, resolved against what the caller may see
before the import reads the Bundle (R4 http.html, "Transaction Processing Rules"):

- a POST with `request.ifNoneExist`: one match, and the entry is that resource (200, nothing
  created; references to its fullUrl name the match); none, and it is created; several: 412;
- a conditional update, PUT `Type?search`: one match, and the entry updates it (its id taken);
  none, and it is created (server-assigned id, 201); several: 412;
- a PUT `Type/id`: `id` must be one this server gave (ids are server-assigned here:
  CapabilityStatement `updateCreate` false), else 405;
- a conditional reference (`Patient?identifier=system|value`) anywhere in a resource: exactly
  one match, and it becomes `Patient/<id>`; none: 404; several: 412.

`find(type, query)` answers the ids of the resources of `type` the query matches (at most a
few: 0, 1 or "several" is all that matters), among those the caller may see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from cervixwatch.app.errors import NotFound, PreconditionFailed
from cervixwatch.web.fhir.http import FhirError

Finder = Callable[[str, str], list[str]]

#: A conditional reference: `Type?parameters` (relative, as R4 requires).
_CONDITIONAL_REFERENCE: Final = re.compile(r"^(?P<type>[A-Z][A-Za-z]+)\?(?P<query>.+)$")


@dataclass(slots=True)
class Resolved:
    """The Bundle to import and what the conditions found."""

    bundle: dict[str, Any]
    #: The place in the Bundle as sent of each entry of `bundle`.
    kept: list[int] = field(default_factory=list)
    #: {place as sent: `Type/id`}: the entries a conditional create found already stored.
    matched: dict[int, str] = field(default_factory=dict)
    #: {`Type/id`: the entry's `request.ifMatch`}: the versions the updates were made for.
    if_match: dict[str, str] = field(default_factory=dict)


def _one(find: Finder, kind: str, query: str, at: str, *, none_ok: bool) -> str | None:
    ids = find(kind, query)
    if len(ids) > 1:
        raise PreconditionFailed(
            f"{at}: {kind}?{query} matches {len(ids)} resources; a condition must name one"
        )
    if not ids and not none_ok:
        raise NotFound(f"{at}: {kind}?{query} matches no resource on this server")
    return ids[0] if ids else None


#: Where a value sits in the Bundle, as (the place of its parent, its key or index): made into
#: text (`_where`) only for an error. Formatting the path of every element of every import
#: was a twentieth of an import's time (docs/performance.md, session 15).
Place = tuple[Any, str | int]


def _where(place: Place | str) -> str:
    parts: list[str] = []
    while not isinstance(place, str):
        place, step = place
        parts.append(f"[{step}]" if isinstance(step, int) else f".{step}")
    return place + "".join(reversed(parts))


def _references(
    node: Any, change: Callable[[str, Place | str], str | None], at: Place | str
) -> Any:
    """`node` with each `reference` that `change` answers replaced: the same object when none
    is, a copy of each dict or list on the way to one that is."""
    if isinstance(node, dict):
        copied: dict[str, Any] | None = None
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                new = change(value, (at, key)) or value
            elif isinstance(value, dict | list):
                new = _references(value, change, (at, key))
            else:
                continue
            if new is not value:
                copied = copied if copied is not None else dict(node)
                copied[key] = new
        return node if copied is None else copied
    if isinstance(node, list):
        changed = [_references(v, change, (at, i)) for i, v in enumerate(node)]
        return node if all(a is b for a, b in zip(changed, node, strict=True)) else changed
    return node


def _identifiers(resource: Mapping[str, Any]) -> set[tuple[str | None, str]]:
    found = set()
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            system = identifier.get("system")
            found.add((system if isinstance(system, str) else None, identifier["value"]))
    return found


def _sent_with_identifier(entries: list[tuple[int, Any]], kind: str, query: str) -> list[str]:
    """How the Bundle names the entries of `kind` that `query` (only `identifier=system|value`)
    matches: their fullUrl, else `Type/id`."""
    params = parse_qsl(query, keep_blank_values=True)
    if len(params) != 1 or params[0][0] != "identifier" or "|" not in params[0][1]:
        return []
    wanted = tuple(params[0][1].split("|", 1))
    out = []
    for _index, entry in entries:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != kind:
            continue
        if (wanted[0] or None, wanted[1]) in _identifiers(resource):
            if isinstance(entry.get("fullUrl"), str):
                out.append(entry["fullUrl"])
            elif isinstance(resource.get("id"), str):
                out.append(f"{kind}/{resource['id']}")
    return out


def resolve(bundle: Mapping[str, Any], find: Finder) -> Resolved:
    """The conditions of a transaction Bundle resolved (see the module's docstring). Raises
    `PreconditionFailed` (412), `NotFound` (404) or a `FhirError` (405), naming the entry."""
    resolved = Resolved({**bundle, "entry": []})
    aliases: dict[str, str] = {}
    entries = []
    for index, entry in enumerate(bundle.get("entry") or ()):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict):
            entries.append((index, entry))
            continue
        method, url = request.get("method"), str(request.get("url", ""))
        resource = entry.get("resource") if isinstance(entry.get("resource"), dict) else {}
        kind, _, query = url.partition("?")
        kind = kind.rstrip("/").split("/")[0]
        at = f"Bundle.entry[{index}].request"
        condition = request.get("ifNoneExist")
        if method == "POST" and isinstance(condition, str) and condition:
            found = _one(find, kind, condition, f"{at}.ifNoneExist", none_ok=True)
            if found is not None:
                resolved.matched[index] = f"{kind}/{found}"
                if isinstance(entry.get("fullUrl"), str):
                    aliases[entry["fullUrl"]] = f"{kind}/{found}"
                continue
        elif method == "PUT" and query:
            found = _one(find, kind, query, f"{at}.url", none_ok=True)
            if found is None:
                resource = {k: v for k, v in resource.items() if k != "id"}
                request = {"method": "POST", "url": kind}
            else:
                resource = {**resource, "id": found}
                request = {**request, "url": f"{kind}/{found}"}
            entry = {**entry, "resource": resource, "request": request}
        elif method in ("PUT", "DELETE"):
            target = url.rstrip("/").split("/")
            if method == "PUT" and len(target) == 2 and not find(kind, f"_id={target[1]}"):
                raise FhirError(
                    405,
                    f"{at}.url: {url}: no such resource here, and this server assigns ids "
                    "(updateCreate false): POST it to create it, or update by a condition "
                    f"(PUT {kind}?identifier=...)",
                    "not-supported",
                    expression=f"{at}.url",
                )
        if method == "PUT" and isinstance(request.get("ifMatch"), str):
            resolved.if_match[str(request["url"])] = request["ifMatch"]
        entries.append((index, entry))
    cache: dict[str, str] = {}

    def change(reference: str, place: Place | str) -> str | None:
        if reference in aliases:
            return aliases[reference]
        match = _CONDITIONAL_REFERENCE.match(reference)
        if match is None:
            return None
        if reference not in cache:
            kind, query, where = match["type"], match["query"], _where(place)
            found = _one(find, kind, query, where, none_ok=True)
            if found is not None:
                cache[reference] = f"{kind}/{found}"
            else:
                # Not stored yet: an entry of this Bundle with that identifier (a woman sent
                # with her first records), named as the Bundle names it.
                sent = _sent_with_identifier(entries, kind, query)
                if len(sent) != 1:
                    _one(lambda _k, _q: [], kind, query, where, none_ok=False)
                cache[reference] = sent[0]
        return cache[reference]

    for index, entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
            entry = {
                **entry,
                "resource": _references(
                    entry["resource"], change, f"Bundle.entry[{index}].resource"
                ),
            }
        resolved.bundle["entry"].append(entry)
        resolved.kept.append(index)
    return resolved
