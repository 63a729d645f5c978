"""`cervixwatch import`: a Bulk Data export loaded into CervixWatch (issue 15, part 1), ours or
another server's, woman by woman through the one import (`app.importing.import_bundle`: the
same reader, identity rules, validation and assessment as `POST /fhir`).

DuckDB groups the export's resources per woman (`app.population.GROUPED_BY_WOMAN`, the
population run's grouping), in the order of her id in the source; each woman's resources
become one collection Bundle, stored in one transaction or not at all. Her Patient's ids and
system-less identifiers are the source's (`Sender(f"bulk:{source}")`), so importing the same
export again finds every woman and stores nothing new (idempotent), and a woman the reader or
the identity rules refuse is counted with the reason (her id in the source and the message,
which names the entry and field, never a value) while the others go on.

Resumable: every `NOTE_EVERY` women the last one stored is noted in `bulk_imports` for the
source; an interrupted import starts after her, the women stored since the note being stored
again (changing nothing).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import duckdb
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.errors import Conflict, OutOfScope
from cervixwatch.app.importing import InvalidBundle, RejectedBundle, import_bundle
from cervixwatch.app.patient_identity import Sender
from cervixwatch.app.population import GROUPED_BY_WOMAN
from cervixwatch.app.population_rows import as_bundle
from cervixwatch.app.reassessing import Profiles
from cervixwatch.interop.bulk_layout import bulk_files
from cervixwatch.store import transaction
from cervixwatch.store.models import BulkImportRow

__all__ = ["BulkImport", "import_export"]

#: Women stored between two notes of how far the import has come.
NOTE_EVERY: Final = 100
#: Refusals kept in full for the summary (all are counted).
REFUSALS_KEPT: Final = 20


@dataclass(slots=True)
class BulkImport:
    """What an import did: women stored (new, or found and brought up to date), refused
    (with the first `REFUSALS_KEPT` reasons), skipped (stored by an earlier, interrupted
    run), and seconds."""

    stored: int = 0
    created: int = 0
    refused: int = 0
    skipped: int = 0
    seconds: float = 0.0
    reasons: list[tuple[str, str]] = field(default_factory=list)


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
    progress: Callable[[int], None] | None = None,
) -> BulkImport:
    """Import every woman of the export at `location`, sent by `source` (a name for the
    system it came from), new women joining `team_ids`. `restart`: from the first woman,
    whatever an earlier run noted. ValueError names a layout or line that cannot be read."""
    started = time.perf_counter()
    files = [str(f.path) for f in bulk_files(location)]
    sender = Sender(f"bulk:{source}", local_system)
    with sessions() as session:
        after = None if restart else _done_through(session, source)
    result = BulkImport()
    since_note = 0
    last: str | None = None
    connection = duckdb.connect()
    try:
        try:
            grouped = connection.execute(GROUPED_BY_WOMAN, {"files": files})
        except duckdb.Error as error:
            raise ValueError(f"{location}: the NDJSON cannot be read ({error})") from None
        while batch := grouped.fetchmany(NOTE_EVERY):
            for woman, raw in batch:
                if after is not None and woman <= after:
                    result.skipped += 1
                    continue
                _one(sessions, woman, raw, sender, today, profiles, team_ids, result)
                last, since_note = woman, since_note + 1
                if progress is not None:
                    progress(result.stored + result.refused + result.skipped)
            if last is not None and since_note:
                _note(sessions, source, last, since_note)
                since_note = 0
    finally:
        connection.close()
    result.seconds = time.perf_counter() - started
    return result


def _one(
    sessions: sessionmaker[Session],
    woman: str,
    raw: list[str],
    sender: Sender,
    today: dt.date,
    profiles: Profiles,
    team_ids: Collection[str],
    result: BulkImport,
) -> None:
    try:
        bundle = orjson.loads(as_bundle([orjson.loads(r) for r in raw]))
        imported = import_bundle(
            sessions,
            bundle,
            today=today,
            profiles=profiles,
            sender=sender,
            new_patient_teams=team_ids,
        )
    except (InvalidBundle, RejectedBundle, Conflict, OutOfScope, orjson.JSONDecodeError) as error:
        result.refused += 1
        if len(result.reasons) < REFUSALS_KEPT:
            result.reasons.append((woman, str(error)))
        return
    result.stored += 1
    result.created += imported.patient_created
