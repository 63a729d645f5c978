"""`cervixwatch population run --database` (issue 15, part 2): the population run over the
app's own database instead of an NDJSON export.

The database is first written as a Bulk Data export (every woman, as `$everything` and
`$export` give her: `app.bulk_export.write_women`) into a scratch directory, and that export is
run exactly as any other, by either engine: one FHIR writer, one reader, one `assess`, and no
second path from the tables to the rows to keep equal to the first.

The unit of a woman in the database is her care team: her Patient carries it as
`managingOrganization` when she is in exactly one team; in several (shared care) or none her
unit is not recorded, never guessed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.bulk_export import write_women
from cervixwatch.interop.bulk_layout import BulkWriter
from cervixwatch.store.models import CareTeamRow, PatientRow, TeamPatientRow

__all__ = ["database_as_export", "export_database"]

_REQUEST: Final = "cervixwatch population run --database"


def _units(session: Session, women: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Her care team as her Patient's `managingOrganization`, for women in one team."""
    teams: dict[str, list[str]] = defaultdict(list)
    query = (
        select(TeamPatientRow.patient_id, CareTeamRow.name)
        .join(CareTeamRow, CareTeamRow.id == TeamPatientRow.team_id)
        .where(TeamPatientRow.patient_id.in_(list(women)))
    )
    for woman, team in session.execute(query):
        teams[woman].append(team)
    return {
        woman: {"managingOrganization": {"display": names[0]}}
        for woman, names in teams.items()
        if len(names) == 1
    }


def export_database(
    sessions: sessionmaker[Session],
    directory: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Every woman of the database as a Bulk Data export in `directory`; returns how many."""
    with sessions() as session:
        women = sorted(session.scalars(select(PatientRow.id)))
    with BulkWriter(
        directory, request=_REQUEST, transaction_time=dt.datetime.now(dt.UTC)
    ) as writer:
        write_women(writer, sessions, women, after_batch=progress, patient_extras=_units)
    return len(women)


@contextmanager
def database_as_export(
    sessions: sessionmaker[Session],
    out: Path,
    *,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Path]:
    """The database exported into a scratch directory under `out`, for either engine to run
    over; the directory is removed afterwards."""
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=out, prefix=".database-export-"))
    try:
        export_database(sessions, scratch, progress=progress)
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
