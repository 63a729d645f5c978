"""`cervixwatch import`: a Bulk Data export loaded into CervixWatch (issue 15, part 1), ours or
another server's, woman by woman through the one import (`app.importing.import_bundle`: the
same reader, identity rules, validation and assessment as `POST /fhir`).

DuckDB groups the export's resources per woman (`app.women_grouping`, the
population run's grouping), in the order of her id in the source; each woman's resources
become one collection Bundle. The women of a batch seen here for the first time are read,
checked and registered together, in one transaction with one INSERT per table
(`app.registering`); any other woman (found stored, or named twice in the batch) is imported
on her own through `import_bundle`, in her own transaction, after them. Her Patient's ids and
system-less identifiers are the source's (`Sender(f"bulk:{source}")`), so importing the same
export again finds every woman and stores nothing new (idempotent), and a woman the reader or
the identity rules refuse is counted with the reason (her id in the source and the message,
which names the entry and field, never a value) while the others go on.

Resumable: after each batch of `NOTE_EVERY` women the last one is noted in `bulk_imports` for
the source, once every batch before it is done; an interrupted import starts after her, the
women stored since the note being stored again (changing nothing). Batches may be imported by
several processes at once (`workers`, each with its own database connections; for
PostgreSQL, where writers do not wait on one another as SQLite's do).
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import duckdb
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.errors import Conflict, OutOfScope
from cervixwatch.app.importing import InvalidBundle, RejectedBundle, import_bundle
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.population_rows import bundle_of
from cervixwatch.app.reassessing import Profiles
from cervixwatch.app.registering import register_new_women
from cervixwatch.app.women_grouping import Grouping, grouped_women
from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.interop.bulk_layout import bulk_files
from cervixwatch.knowledge import load_profiles
from cervixwatch.store import make_engine, session_factory, transaction
from cervixwatch.store.models import BulkImportRow

__all__ = ["BulkImport", "import_export"]

#: Women stored between two notes of how far the import has come.
NOTE_EVERY: Final = 250
#: Refusals kept in full for the summary (all are counted).
REFUSALS_KEPT: Final = 20


@dataclass(slots=True)
class BulkImport:
    """What an import did: women stored (new, or found and brought up to date), refused
    (with the first `REFUSALS_KEPT` reasons), skipped (stored by an earlier, interrupted
    run), resources that named no woman (left out), and seconds."""

    stored: int = 0
    created: int = 0
    refused: int = 0
    skipped: int = 0
    not_about_a_woman: int = 0
    seconds: float = 0.0
    reasons: list[tuple[str, str]] = field(default_factory=list)

    def merge(self, done: BulkImport) -> None:
        """Add what a batch did."""
        self.stored += done.stored
        self.created += done.created
        self.refused += done.refused
        self.reasons.extend(done.reasons[: max(0, REFUSALS_KEPT - len(self.reasons))])


def _done_through(session: Session, source: str) -> str | None:
    return session.scalar(select(BulkImportRow.done_through).where(BulkImportRow.source == source))


def _note(sessions: sessionmaker[Session], source: str, woman: str, women: int) -> None:
    with transaction(sessions) as session:
        row = session.get(BulkImportRow, source)
        now = dt.datetime.now(dt.UTC)
        if row is None:
            session.add(
                BulkImportRow(source=source, done_through=woman, women=women, updated_at=now)
            )
        else:
            row.done_through, row.women, row.updated_at = woman, row.women + women, now


def import_export(
    sessions: sessionmaker[Session],
    location: Path,
    *,
    source: str,
    today: dt.date,
    profiles: Profiles,
    team_ids: Collection[str],
    local_system: str,
    restart: bool = False,
    workers: int = 1,
    database_url: str | None = None,
    knowledge: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> BulkImport:
    """Import every woman of the export at `location`, sent by `source` (a name for the
    system it came from), new women joining `team_ids`. `restart`: from the first woman,
    whatever an earlier run noted. `workers` > 1 (with the `database_url` each opens):
    batches of women imported by that many processes at once, noted only once every batch
    before them is done, so a resumed import never skips a woman. ValueError names a layout
    or line that cannot be read."""
    started = time.perf_counter()
    layout = bulk_files(location)
    files = [str(f.path) for f in layout]
    patient_files = [str(f.path) for f in layout if f.resource_type == "Patient"]
    sender = Sender(f"bulk:{source}", local_system)
    with sessions() as session:
        after = None if restart else _done_through(session, source)
    result = BulkImport()
    job = _Job(sender, today, [p.id for p in _profile_list(profiles)], list(team_ids))
    connection = duckdb.connect()
    pool = (
        ProcessPoolExecutor(workers, initializer=_start_worker, initargs=(database_url, knowledge))
        if workers > 1 and database_url is not None
        else None
    )
    if pool is None:
        _WORKER.update(sessions=sessions, profiles=profiles)
    scratch = tempfile.TemporaryDirectory(prefix="cervixwatch-import-")
    try:
        try:
            found = Grouping()
            grouped = grouped_women(
                connection,
                files,
                Path(scratch.name),
                batch=NOTE_EVERY,
                patient_files=patient_files,
                found=found,
            )
            first = next(grouped, None)
            result.not_about_a_woman = found.not_about_a_woman
        except duckdb.Error as error:
            raise ValueError(f"{location}: the NDJSON cannot be read ({error})") from None
        chunks = itertools.chain([first] if first is not None else [], grouped)
        batches = _batches(chunks, after, result)
        for woman, done in _in_order(pool, batches, job, 2 * workers):
            result.merge(done)
            if done.stored or done.refused:
                _note(sessions, source, woman, done.stored + done.refused)
            if progress is not None:
                progress(result.stored + result.refused + result.skipped)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        connection.close()
        scratch.cleanup()
    result.seconds = time.perf_counter() - started
    return result


@dataclass(frozen=True, slots=True)
class _Job:
    """What every batch is imported with (sent to each worker process once per batch)."""

    sender: Sender
    today: dt.date
    profile_ids: list[str]
    team_ids: list[str]


_WORKER: dict[str, Any] = {}


def _start_worker(database_url: str, knowledge: Path | None) -> None:
    """A worker process's own engine and knowledge."""
    _WORKER["sessions"] = session_factory(make_engine(database_url))
    _WORKER["profiles"] = load_profiles(knowledge) if knowledge is not None else load_profiles()


def _profile_list(profiles: Profiles) -> list[GuidelineProfile]:
    return list(profiles.values()) if isinstance(profiles, Mapping) else list(profiles)


Batch = list[tuple[str, list[str]]]


def _batches(grouped: Iterator[Batch], after: str | None, result: BulkImport) -> Iterator[Batch]:
    """The grouped women a batch at a time, those an earlier run stored counted as skipped."""
    for rows in grouped:
        batch = [(woman, raw) for woman, raw in rows if after is None or woman > after]
        result.skipped += len(rows) - len(batch)
        if batch:
            yield batch


def _import_batch(batch: Batch, job: _Job) -> BulkImport:
    """Import each woman of `batch` in her own transaction (in a worker, or in this process)."""
    sessions: sessionmaker[Session] = _WORKER["sessions"]
    loaded = _WORKER["profiles"]
    by_id = loaded if isinstance(loaded, Mapping) else {p.id: p for p in loaded}
    profiles = [by_id[i] for i in job.profile_ids]
    done = BulkImport()
    bundles: dict[str, dict[str, Any]] = {}
    unreadable: dict[str, str] = {}
    for woman, raw in batch:
        try:
            bundles[woman] = bundle_of([orjson.loads(r) for r in raw])
        except orjson.JSONDecodeError as error:
            unreadable[woman] = str(error)
    registered = register_new_women(
        sessions,
        list(bundles.items()),
        today=job.today,
        profiles=profiles,
        sender=job.sender,
        new_patient_teams=job.team_ids,
    )
    done.stored += len(registered.registered)
    done.created += len(registered.registered)
    refusals = unreadable | {woman: str(error) for woman, error in registered.refused}
    for woman in registered.one_by_one:
        why = _one(sessions, bundles[woman], job.sender, job.today, profiles, job.team_ids, done)
        if why is not None:
            refusals[woman] = why
    for woman, _ in batch:  # refusals in the batch's order
        if woman in refusals:
            done.refused += 1
            if len(done.reasons) < REFUSALS_KEPT:
                done.reasons.append((woman, refusals[woman]))
    return done


def _in_order(
    pool: ProcessPoolExecutor | None, batches: Iterator[Batch], job: _Job, window: int
) -> Iterator[tuple[str, BulkImport]]:
    """(last woman, what was done) of each batch, in the batches' order, with at most
    `window` in flight: the note after a batch is only written once all before it are
    done."""
    if pool is None:
        for batch in batches:
            yield batch[-1][0], _import_batch(batch, job)
        return
    pending: deque[tuple[str, Future[BulkImport]]] = deque()
    for batch in batches:
        pending.append((batch[-1][0], pool.submit(_import_batch, batch, job)))
        if len(pending) >= window:
            woman, future = pending.popleft()
            yield woman, future.result()
    while pending:
        woman, future = pending.popleft()
        yield woman, future.result()


def _one(
    sessions: sessionmaker[Session],
    bundle: dict[str, Any],
    sender: Sender,
    today: dt.date,
    profiles: Profiles,
    team_ids: Collection[str],
    result: BulkImport,
) -> str | None:
    """Import one woman through `import_bundle` (one transaction): why she is refused, or
    None (stored, and counted in `result`)."""
    try:
        imported = import_bundle(
            sessions,
            bundle,
            today=today,
            profiles=profiles,
            sender=sender,
            new_patient_teams=team_ids,
        )
    except (InvalidBundle, RejectedBundle, Conflict, OutOfScope) as error:
        return str(error)
    result.stored += 1
    result.created += imported.patient_created
    return None
