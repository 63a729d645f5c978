"""SMART on FHIR scopes (App Launch 2.x, "Scopes and Launch Context"): what a token may do on
the FHIR API, and what a FHIR request needs.

A clinical scope is `<context>/<resource type or *>.<permissions>`:
- context `patient` (only the woman in the launch context), `user` (whatever the signed-in
  user may reach: her care teams, or a patient's own record) or `system` (a backend client,
  whatever its service account may reach);
- permissions, SMART v2, a subset of `cruds` in that order: create, read, update, delete,
  search. SMART v1's `read` (= `rs`), `write` (= `cud`) and `*` (= `cruds`) are read as their
  v2 equivalents, as the specification asks servers that accept both to do.
A scope with a query (`patient/Observation.rs?category=...`, "granular scopes") is not
granted: this server cannot narrow a search by it, and granting it whole would give more than
was asked. Unknown scopes are dropped, never widened.

A scope only narrows: the user's role and care teams still apply to every request
(`web.access`), so a token can never do more than its user could with a password.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Context = Literal["patient", "user", "system"]

#: SMART v2 permission letters, in the order the grammar requires them.
PERMISSION_ORDER: Final = "cruds"
_V1_PERMISSIONS: Final = {"read": "rs", "write": "cud", "*": "cruds"}
_CLINICAL: Final = re.compile(
    r"^(?P<context>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})\.(?P<perms>[a-z*]+)$"
)

#: Scopes with no resource in them that this server understands: the patient picker of a
#: standalone launch, and offline access is not offered (no refresh tokens).
LAUNCH_PATIENT: Final = "launch/patient"


@dataclass(frozen=True, slots=True, order=True)
class ClinicalScope:
    context: Context
    resource_type: str  # a FHIR resource type, or "*"
    permissions: str  # letters of "cruds", in that order

    def __str__(self) -> str:
        return f"{self.context}/{self.resource_type}.{self.permissions}"

    def allows(self, resource_type: str, permission: str) -> bool:
        return permission in self.permissions and self.resource_type in ("*", resource_type)


def parse_scope(text: str) -> ClinicalScope | None:
    """One clinical scope, or None when `text` is not one this server grants."""
    found = _CLINICAL.match(text)
    if found is None:
        return None
    perms = found["perms"]
    perms = _V1_PERMISSIONS.get(perms, perms)
    if not perms or any(p not in PERMISSION_ORDER for p in perms):
        return None
    ordered = "".join(p for p in PERMISSION_ORDER if p in perms)
    if ordered != perms:  # v2 requires the letters in order, each once
        return None
    context: Context = found["context"]  # type: ignore[assignment]
    return ClinicalScope(context, found["type"], perms)


def scope_words(text: str | None) -> list[str]:
    """A space-separated scope parameter as its words, each once, in order."""
    seen: list[str] = []
    for word in (text or "").split():
        if word not in seen:
            seen.append(word)
    return seen


@dataclass(frozen=True, slots=True)
class GrantedScopes:
    """What a SMART token may do: its clinical scopes (and whether a patient was chosen)."""

    clinical: frozenset[ClinicalScope]

    @classmethod
    def of(cls, words: Iterable[str]) -> GrantedScopes:
        return cls(frozenset(s for w in words if (s := parse_scope(w)) is not None))

    def contexts_allowing(self, resource_type: str, permission: str) -> set[Context]:
        return {s.context for s in self.clinical if s.allows(resource_type, permission)}


@dataclass(frozen=True, slots=True)
class Needed:
    """What a FHIR request needs: a permission on a resource type ("*": on every type)."""

    resource_type: str
    permission: str


#: The resource types this server's FHIR API answers (`web.fhir`), and its operations by the
#: permission each needs. Anything else under /fhir needs a scope on every type.
_EVERY_TYPE: Final = "*"


def needed_for(method: str, fhir_path: str) -> list[Needed]:
    """What a request to the FHIR API needs, from its method and its path below /fhir
    ("/Observation/123", "/Patient/$match", "" for a Bundle). Each item must be allowed.

    - read (`r`): a resource by id, its versions;
    - search (`s`): a type's search, `_search`, `$match`;
    - create (`c`), update (`u`), delete (`d`): as the FHIR RESTful API;
    - a transaction or batch Bundle (POST to the base): create and update on every type,
      as its entries may be of any type;
    - `$everything` and Bulk Data (`$export`, its status and files): read and search on
      every type, as they return every type.
    """
    parts = [p for p in fhir_path.split("/") if p]
    method = method.upper()
    if method == "HEAD":
        method = "GET"
    if not parts:
        return [Needed(_EVERY_TYPE, "c"), Needed(_EVERY_TYPE, "u")]
    if any(p.startswith(("$export", "$everything")) for p in parts):
        return [Needed(_EVERY_TYPE, "r"), Needed(_EVERY_TYPE, "s")]
    resource_type = parts[0]
    if not re.fullmatch(r"[A-Z][A-Za-z]{1,63}", resource_type):
        return [Needed(_EVERY_TYPE, p) for p in PERMISSION_ORDER]
    rest = parts[1:]
    if rest in (["_search"], ["$match"]) and method == "POST":
        return [Needed(resource_type, "s")]
    if method == "GET":
        return [Needed(resource_type, "s" if not rest else "r")]
    if method == "POST" and not rest:
        return [Needed(resource_type, "c")]
    if method == "PUT":
        # A conditional update (no id) may create.
        return [Needed(resource_type, "u")] + ([] if rest else [Needed(resource_type, "c")])
    if method == "DELETE" and rest:
        return [Needed(resource_type, "d")]
    return [Needed(_EVERY_TYPE, p) for p in PERMISSION_ORDER]


def contexts_for(granted: GrantedScopes, needs: Iterable[Needed]) -> set[Context]:
    """The contexts in which every need is allowed: a request may go ahead as a `user` or
    `system` request if one of those allows it all, else only for the launch patient
    (`patient`), else not at all (an empty set)."""
    allowed: set[Context] | None = None
    for need in needs:
        here = granted.contexts_allowing(need.resource_type, need.permission)
        allowed = here if allowed is None else allowed & here
    return allowed or set()
