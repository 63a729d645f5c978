"""Counts, not times, of one FHIR search over N demo women (issue 12, F1): how many women it
exports and how many SQL statements it sends, for `Observation?_count=1` and
`Patient?_count=50`, on a throwaway SQLite database with every woman in the caller's team.

    uv run python benchmarks/fhir_search_counts.py 300

Run it against two trees (PYTHONPATH=<tree>/src) to compare them side by side.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from unittest.mock import patch

from sqlalchemy import event, select

import cervixwatch.app.exporting as exporting
from cervixwatch.access.principal import Scope
from cervixwatch.cohort import generate_cohort
from cervixwatch.cohort.load import load_cohort
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.exports import load_exports
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import CareTeamRow, PatientRow, TeamPatientRow

TODAY = dt.date(2026, 3, 2)


def main(women: int) -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'counts.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    profiles = bundled_profiles()
    cohort = generate_cohort(women, seed=7, reference=TODAY, active=2 * women // 3)
    load_cohort(sessions, cohort, TODAY, profiles)
    with sessions.begin() as session:
        session.add(CareTeamRow(id="team", name="Team"))
        session.flush()
        for patient_id in list(session.scalars(select(PatientRow.id))):
            session.add(TeamPatientRow(team_id="team", patient_id=patient_id))
    exported: list[str] = []

    def counting(session: Any, patient_ids: Sequence[str], **kwargs: Any) -> Any:
        exported.extend(patient_ids)
        return load_exports(session, patient_ids, **kwargs)

    patch.object(exporting, "load_exports", counting).start()
    statements = [0]

    def before(*_: Any) -> None:
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    for kind, count in (("Observation", 1), ("Patient", 50)):
        exported.clear()
        statements[0] = 0
        result = exporting.search(
            sessions,
            kind,
            exporting.Criteria(),
            count=count,
            scope=Scope(frozenset({"team"})),
            profiles=profiles,
        )
        print(
            f"{kind}?_count={count}: {len(result.resources)} entries of {result.total}; "
            f"women exported {len(exported)}; SQL statements {statements[0]}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
