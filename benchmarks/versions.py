"""What keeping versions costs a write of a woman already stored (issue 11, part 4):
`app.versions.before_change` per woman, on a throwaway database holding N demo women.

    uv run python benchmarks/versions.py 300 [--database-url postgresql+psycopg://...]

A write of a woman seen for the first time (the import benchmark's case) keeps nothing; a write
of one already stored first keeps her served resources. Timed per woman, each in its own
transaction (rolled back), two ways: her first write since she was loaded (every resource of
hers is kept: version 1 of each) and a write after that (nothing changed: made and hashed,
nothing kept). With the SQL statements each sends. Wall time, one process; the database on
the same machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select, text
from sqlalchemy.engine import make_url

from cervixwatch.app.versions import before_change
from cervixwatch.cohort import generate_cohort
from cervixwatch.cohort.load import load_cohort
from cervixwatch.knowledge import bundled_profiles
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import PatientRow

TODAY = dt.date(2026, 3, 2)


@contextmanager
def database(server: str | None) -> Iterator[str]:
    """A throwaway database: SQLite in a temporary directory, or one made on `server`."""
    if server is None:
        yield f"sqlite:///{Path(tempfile.mkdtemp()) / 'versions.db'}"
        return
    name = f"cw_bench_{secrets.token_hex(5)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def main(women: int, server: str | None) -> None:
    with database(server) as url:
        upgrade(url)
        engine = make_engine(url)
        sessions = session_factory(engine)
        cohort = generate_cohort(women, seed=7, reference=TODAY, active=2 * women // 3)
        load_cohort(sessions, cohort, TODAY, bundled_profiles())
        with sessions() as session:
            ids = list(session.scalars(select(PatientRow.id).order_by(PatientRow.id)))
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        event.listen(engine, "before_cursor_execute", count)
        for label, keep_first in (("first write (all kept)", False), ("later write", True)):
            times, sent = [], []
            for patient_id in ids:
                with sessions() as session:
                    if keep_first:
                        before_change(session, patient_id)
                        session.info.clear()
                    statements[0] = 0
                    start = time.perf_counter()
                    before_change(session, patient_id)
                    times.append(time.perf_counter() - start)
                    sent.append(statements[0])
                    session.rollback()
            times.sort()
            print(
                f"{engine.dialect.name}, {len(ids)} women, {label}: median "
                f"{statistics.median(times) * 1000:.2f} ms, p90 "
                f"{times[int(len(times) * 0.9)] * 1000:.2f} ms; SQL statements median "
                f"{statistics.median(sent):.0f}"
            )
        engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("women", type=int, nargs="?", default=300)
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    args = parser.parse_args()
    main(args.women, args.database_url)
