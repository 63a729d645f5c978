"""FHIR Bulk Data `$export` (https://hl7.org/fhir/uv/bulkdata/export.html): an export of many
women run in the background, its state kept in files so that every server worker can answer
for it.

A job is a directory `<export root>/<job id>/` holding:
- `job.json`: who asked (the account: only she may poll, download or cancel), the request,
  the transaction time, and when the files expire once written;
- `progress.json`: women written of how many, and the writer's last heartbeat;
- the NDJSON files and `manifest.json` (`interop.bulk_layout.BulkWriter`), the manifest
  written last: its presence says the export is complete;
- `error.json` if the export failed.
Cancelling removes `job.json` first (the writer stops at its next woman) and then the
directory. Each woman is exported by `app.exporting.exported_resources`, the code behind
`$everything`, a batch of women at a time: there is no second FHIR writer.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.access.principal import Scope
from cervixwatch.app.assessment_fhir import Profiles
from cervixwatch.app.errors import NotFound
from cervixwatch.app.exporting import exported_resources
from cervixwatch.interop.bulk_layout import MANIFEST, BulkWriter
from cervixwatch.store.accounts import visible_patient_ids
from cervixwatch.store.exports import load_exports
from cervixwatch.store.versions import women_written_since

log = logging.getLogger(__name__)

_JOB: Final = "job.json"
_PROGRESS: Final = "progress.json"
_ERROR: Final = "error.json"
#: Women loaded and written together: few enough that cancelling and the heartbeat wait
#: only a moment, enough that each batch is a handful of queries, not one per woman.
BATCH: Final = 50
#: A running export whose heartbeat is older than this has lost its writer (the worker that
#: ran it stopped): it is reported as failed, never as running for ever. A batch takes well
#: under a second; this leaves room for a loaded machine.
STALE_AFTER: Final = dt.timedelta(minutes=2)
_JOB_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What a kick-off asked for: whose women (`scope`), which types (None: all), changed
    since when (None: all), by whom (`owner`, an account id), as requested (`request`)."""

    owner: str
    scope: Scope
    request: str
    types: frozenset[str] | None = None
    since: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A job as its status endpoint tells it: `state` running, complete or failed."""

    state: str
    done: int = 0
    total: int = 0
    manifest: dict[str, Any] | None = None
    expires: dt.datetime | None = None
    error: str | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write atomically (a reader in another worker sees the old file or the new one)."""
    partial = path.with_suffix(".part")
    partial.write_bytes(orjson.dumps(value))
    os.replace(partial, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _job_dir(root: Path, job_id: str) -> Path:
    if not _JOB_ID.fullmatch(job_id):
        raise NotFound(f"no export {job_id}")
    return root / job_id


def _owned_job(root: Path, job_id: str, owner: str) -> tuple[Path, dict[str, Any]]:
    """The job's directory and `job.json`; NotFound for a job that is not `owner`'s, the same
    as for none, so job ids cannot be probed."""
    directory = _job_dir(root, job_id)
    job = _read_json(directory / _JOB)
    if job is None or job.get("owner") != owner:
        raise NotFound(f"no export {job_id}")
    return directory, job


def start(
    root: Path,
    job_id: str,
    sessions: sessionmaker[Session],
    wanted: ExportRequest,
    *,
    profiles: Profiles | None,
    expire_after: dt.timedelta,
) -> dt.datetime:
    """Create the job `job_id` and start writing it in a thread of this worker; returns its
    transaction time."""
    directory = _job_dir(root, job_id)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    directory.mkdir(mode=0o700)
    began = _now()
    _write_json(
        directory / _JOB,
        {
            "owner": wanted.owner,
            "request": wanted.request,
            "transactionTime": began.isoformat(),
            "expireSeconds": expire_after.total_seconds(),
        },
    )
    _write_json(directory / _PROGRESS, {"done": 0, "total": 0, "beat": began.isoformat()})
    thread = threading.Thread(
        target=_run,
        args=(directory, sessions, wanted, profiles, began),
        name=f"bulk-export-{job_id}",
        daemon=True,
    )
    thread.start()
    return began


def _women(sessions: sessionmaker[Session], wanted: ExportRequest) -> list[str]:
    with sessions() as session:
        women = visible_patient_ids(session, wanted.scope)
        if wanted.since is not None:
            # Only women written since can have a resource changed since (`app.exporting`).
            women = women & frozenset(women_written_since(session, wanted.since))
    return sorted(women)


def _changed_since(resource: dict[str, Any], since: dt.datetime) -> bool:
    """Whether a resource changed after `since`; one with no `lastUpdated` (its woman was
    written since, or it would not be weighed) is kept: unknown is never "unchanged"."""
    stamped = (resource.get("meta") or {}).get("lastUpdated")
    if not isinstance(stamped, str):
        return True
    return dt.datetime.fromisoformat(stamped) > since


def _run(
    directory: Path,
    sessions: sessionmaker[Session],
    wanted: ExportRequest,
    profiles: Profiles | None,
    began: dt.datetime,
) -> None:
    try:
        _write(directory, sessions, wanted, profiles, began)
    except Exception as error:
        if not (directory / _JOB).exists():
            shutil.rmtree(directory, ignore_errors=True)  # cancelled while writing
            return
        log.exception("bulk export %s failed", directory.name)
        _write_json(directory / _ERROR, {"error": f"the export failed ({type(error).__name__})"})


def _write(
    directory: Path,
    sessions: sessionmaker[Session],
    wanted: ExportRequest,
    profiles: Profiles | None,
    began: dt.datetime,
) -> None:
    women = _women(sessions, wanted)
    beat = _heartbeat(directory, len(women))
    beat(0)

    def still_wanted(done: int) -> None:
        if not (directory / _JOB).exists():
            raise _Cancelled
        beat(done)

    writer = BulkWriter(directory, request=wanted.request, transaction_time=began)
    with writer:
        write_women(
            writer,
            sessions,
            women,
            types=wanted.types,
            since=wanted.since,
            profiles=profiles,
            after_batch=still_wanted,
        )
        if not (directory / _JOB).exists():
            raise _Cancelled
    log.info("bulk export %s complete: %d women", directory.name, len(women))


def write_women(
    writer: BulkWriter,
    sessions: sessionmaker[Session],
    women: Sequence[str],
    *,
    types: Iterable[str] | None = None,
    since: dt.datetime | None = None,
    profiles: Profiles | None = None,
    after_batch: Callable[[int], None] | None = None,
    patient_extras: Callable[[Session, Sequence[str]], dict[str, dict[str, Any]]] | None = None,
) -> None:
    """Each woman's resources as `$everything` gives them, a batch of women at a time (one
    session each), into `writer`; `after_batch` is told the women done so far (and may raise
    to stop); `patient_extras` gives elements to add to a batch's Patient resources."""
    for start_at in range(0, len(women), BATCH):
        if after_batch is not None and start_at:
            after_batch(start_at)
        batch = women[start_at : start_at + BATCH]
        with sessions() as session:
            exports = load_exports(session, batch)
            extras = patient_extras(session, batch) if patient_extras is not None else {}
            for woman, resources in exported_resources(
                session, exports, types=types, profiles=profiles
            ):
                for resource in resources:
                    if resource["resourceType"] == "Patient" and woman in extras:
                        resource = {**resource, **extras[woman]}
                    if since is None or _changed_since(resource, since):
                        writer.write(resource)
    if after_batch is not None:
        after_batch(len(women))


class _Cancelled(Exception):
    """The job's owner cancelled it while it was being written."""


def _heartbeat(directory: Path, total: int) -> Callable[[int], None]:
    def beat(done: int) -> None:
        _write_json(
            directory / _PROGRESS, {"done": done, "total": total, "beat": _now().isoformat()}
        )

    return beat


def status(root: Path, job_id: str, owner: str, *, now: dt.datetime | None = None) -> JobStatus:
    """Where the job stands; NotFound if it is not `owner`'s (or expired, or cancelled)."""
    now = now or _now()
    directory, job = _owned_job(root, job_id, owner)
    failed = _read_json(directory / _ERROR)
    if failed is not None:
        return JobStatus("failed", error=str(failed.get("error")))
    manifest = _read_json(directory / MANIFEST)
    if manifest is not None:
        written = dt.datetime.fromtimestamp((directory / MANIFEST).stat().st_mtime, dt.UTC)
        expires = written + dt.timedelta(seconds=float(job["expireSeconds"]))
        return JobStatus("complete", manifest=manifest, expires=expires)
    progress = _read_json(directory / _PROGRESS) or {}
    beat = progress.get("beat")
    if not isinstance(beat, str) or now - dt.datetime.fromisoformat(beat) > STALE_AFTER:
        return JobStatus(
            "failed",
            error="the export stopped: the server worker writing it ended before it was "
            "complete; start it again",
        )
    return JobStatus("running", done=int(progress.get("done", 0)), total=int(progress["total"]))


def export_file(root: Path, job_id: str, owner: str, resource_type: str) -> Path:
    """The NDJSON file of `resource_type` of a complete job of `owner`'s; NotFound otherwise."""
    done = status(root, job_id, owner)
    listed = {str(o.get("type")) for o in (done.manifest or {}).get("output", [])}
    if done.state != "complete" or resource_type not in listed:
        raise NotFound(f"no file {resource_type} in export {job_id}")
    return root / job_id / f"{resource_type}.ndjson"


def cancel(root: Path, job_id: str, owner: str) -> None:
    """Stop the job (its writer stops at its next batch) and delete its files."""
    directory, _ = _owned_job(root, job_id, owner)
    (directory / _JOB).unlink(missing_ok=True)
    shutil.rmtree(directory, ignore_errors=True)


def sweep(root: Path, *, now: dt.datetime | None = None) -> list[str]:
    """Delete the jobs whose files have expired, and the remains of cancelled or abandoned
    ones; returns the ids deleted."""
    now = now or _now()
    if not root.is_dir():
        return []
    gone = []
    for directory in root.iterdir():
        if not directory.is_dir() or not _JOB_ID.fullmatch(directory.name):
            continue
        job = _read_json(directory / _JOB)
        if job is None:  # cancelled (or abandoned while it was being made)
            touched = dt.datetime.fromtimestamp(directory.stat().st_mtime, dt.UTC)
            expired = now - touched > STALE_AFTER
        else:
            expired = _expired(directory, job, now)
        if expired:
            shutil.rmtree(directory, ignore_errors=True)
            gone.append(directory.name)
    return gone


def _expired(directory: Path, job: dict[str, Any], now: dt.datetime) -> bool:
    """A job expires `expireSeconds` after it ended: written, failed or abandoned."""
    ended: Sequence[Path] = [
        p for p in (directory / MANIFEST, directory / _ERROR, directory / _PROGRESS) if p.exists()
    ]
    if not ended:
        return False
    last = max(dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC) for p in ended)
    still_running = not (directory / MANIFEST).exists() and not (directory / _ERROR).exists()
    if still_running and now - last <= STALE_AFTER:
        return False
    return now - last > dt.timedelta(seconds=float(job["expireSeconds"]))
