"""The version a served resource is at, for its `meta.versionId` and `meta.lastUpdated`.

A resource is made afresh from its rows on every read; what it was is kept only when a write
is about to change it (`app.versions.before_change`). So the version of what is served now is
worked out by comparing it with the latest kept version of it:

- the same content (SHA-256 of its canonical JSON, `meta` aside) as its latest kept version,
  hers and not a deletion: that version;
- otherwise (changed, or new since, or none kept): the next version (1 if none is kept), made
  by her last write, so `lastUpdated` is when that write began. Every write keeps what it is
  about to change first, so whatever differs from its latest kept version was changed by her
  last write.

The stored assessment's resources (GuidanceResponse, RequestGroup, RiskAssessment, Flag) are
not versioned: they are the assessment made again on each read, by the profiles in use, for a
day the daily refresh moves, not a record a write changes; they keep `meta.lastUpdated` (when
the assessment was stored) and have no `versionId`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson
from sqlalchemy.orm import Session

from cervixwatch.knowledge.record_kinds import RECORD_RESOURCE_TYPES
from cervixwatch.store.versions import Kept, latest_versions, written_at

#: The types whose resources have versions: the records and the Patient.
VERSIONED_TYPES: Final = frozenset({"Patient", *RECORD_RESOURCE_TYPES})
#: `meta` elements that say which version a resource is, not what it holds.
_VERSION_META = ("versionId", "lastUpdated")


@dataclass(frozen=True, slots=True)
class Version:
    """Which version a resource is at and when that version came to be."""

    version_id: int
    last_updated: dt.datetime

    @property
    def etag(self) -> str:
        return f'W/"{self.version_id}"'


def bare(resource: Mapping[str, Any]) -> dict[str, Any]:
    """The resource without what its `meta` says of its version (and no `meta` left empty)."""
    out = dict(resource)
    meta = {k: v for k, v in (out.pop("meta", None) or {}).items() if k not in _VERSION_META}
    if meta:
        out["meta"] = meta
    return out


def content_hash(resource: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the resource's canonical JSON (keys sorted), its version aside."""
    return hashlib.sha256(orjson.dumps(bare(resource), option=orjson.OPT_SORT_KEYS)).hexdigest()


def instant(when: dt.datetime) -> str:
    """A FHIR instant, in UTC to the millisecond (never later than `when`)."""
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def version_now(
    patient_id: str,
    content: str,
    latest: Kept | None,
    last_write: dt.datetime,
) -> Version:
    """The version a resource of hers with this content hash is at, given its latest kept
    version and when her last write began (the module's rules)."""
    if (
        latest is not None
        and latest.patient_id == patient_id
        and not latest.deleted
        and latest.content_hash == content
    ):
        return Version(latest.version_id, latest.last_updated)
    return Version(latest.version_id + 1 if latest is not None else 1, last_write)


def versions_of(
    session: Session, owned: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[Version | None]:
    """The version of each (woman's id, resource) as served now (None: a type without
    versions, or a woman not stored). Two queries for any number of resources."""
    keys = [
        (str(r["resourceType"]), str(r["id"]))
        for _, r in owned
        if r.get("resourceType") in VERSIONED_TYPES
    ]
    if not keys:
        return [None] * len(owned)
    latest = latest_versions(session, keys)
    writes = written_at(session, {p for p, r in owned if r.get("resourceType") in VERSIONED_TYPES})
    out: list[Version | None] = []
    for patient_id, resource in owned:
        kind = resource.get("resourceType")
        if kind not in VERSIONED_TYPES or patient_id not in writes:
            out.append(None)
            continue
        key = (str(kind), str(resource["id"]))
        out.append(
            version_now(patient_id, content_hash(resource), latest.get(key), writes[patient_id])
        )
    return out


def with_version(resource: MutableMapping[str, Any], version: Version) -> None:
    """Put the version in the resource's `meta`."""
    meta = {
        "versionId": str(version.version_id),
        "lastUpdated": instant(version.last_updated),
        **{k: v for k, v in (resource.get("meta") or {}).items() if k not in _VERSION_META},
    }
    resource["meta"] = meta


def stamp(session: Session, owned: Sequence[tuple[str, MutableMapping[str, Any]]]) -> None:
    """Give each (woman's id, resource) of a versioned type its `meta.versionId` and
    `meta.lastUpdated`, in place."""
    for (_, resource), version in zip(owned, versions_of(session, owned), strict=True):
        if version is not None:
            with_version(resource, version)
