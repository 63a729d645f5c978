"""The fault suite's runs: faults injected into a served app while the import loop runs, then
every import checked (`ledger`), and the figures.

PostgreSQL, `cervixwatch serve --workers 2`, three kinds of fault, round-robin:
- `kill-worker`: SIGKILL to one worker (the oldest);
- `kill-two`: SIGKILL to one worker and at once to the other (no worker left: the service is
  down until the supervisor has started new ones);
- `terminate-connections`: `pg_terminate_backend` on every connection to the test's own
  database (the pools' connections die under the requests using them).
Before each fault every worker is running and, for a kill, the workers to be killed have run
longer than the supervisor's early-death guard (`serving.EARLY_DEATH_SECONDS`): a worker that
dies younger is restarted after a back-off on purpose (a crash loop), which is not the fault
measured here. Recovery: from the fault to the first 2xx answer to an import sent after it.

SQLite: the whole server (supervisor and workers) killed mid-loop, started again on the same
file: `PRAGMA integrity_check` says ok, the imports are all or nothing, it imports again."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from cervixwatch.serving import EARLY_DEATH_SECONDS
from cervixwatch.store.database import make_engine
from tests.faults import harness
from tests.faults.ledger import Stored, Tally, audit_problems, check, expected_signatures
from tests.faults.loop import Attempt, ImportLoop
from tests.faults.women import Women, templates
from tests.server_process import free_port

WORKERS = 2
KINDS = ("kill-worker", "kill-two", "terminate-connections")
#: The service must answer an import again within this many seconds of a fault.
RECOVERY_LIMIT = 5.0
#: Given up waiting for a recovery after this long (the trial fails).
RECOVERY_TIMEOUT = 60.0
#: Imports answered 2xx between faults (after the recovery), so each fault hits a busy loop.
BETWEEN_FAULTS = 8


@dataclass
class Trial:
    kind: str
    #: When the fault was injected (time.monotonic()).
    at: float
    recovery: float | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Figures:
    """One run's outcome: its trials and what became of the imports, by fault kind."""

    trials: list[Trial]
    tallies: dict[str, Tally]
    extra_problems: list[str]
    seconds: float

    def problems(self) -> list[str]:
        found = list(self.extra_problems)
        seen: Counter[str] = Counter()
        for trial in self.trials:
            seen[trial.kind] += 1
            found.extend(f"{trial.kind} #{seen[trial.kind]}: {p}" for p in trial.problems)
        for kind, tally in self.tallies.items():
            found.extend(f"{kind}: {p}" for p in tally.problems)
        return found

    def table(self) -> str:
        lines = [
            "| fault | trials | failed trials | imports sent | 2xx | failed answers | "
            "no answer (of which stored) | half-written | 2xx lost | rows lost | "
            "audit entries missing / extra | recovery median / worst |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for kind, tally in self.tallies.items():
            trials = [t for t in self.trials if t.kind == kind]
            times = [t.recovery for t in trials if t.recovery is not None]
            recovery = f"{statistics.median(times):.2f} s / {max(times):.2f} s" if times else "n/a"
            failed = sum(bool(t.problems) for t in trials)
            statuses = ", ".join(f"{n} x {s}" for s, n in sorted(tally.statuses.items()))
            lines.append(
                f"| {kind} | {len(trials)} | {failed} | {tally.sent} | {tally.succeeded} | "
                f"{tally.failed}{f' ({statuses})' if statuses else ''} | "
                f"{tally.unanswered} ({tally.stored_unanswered}) | {tally.half_written} | "
                f"{tally.lost} | {tally.rows_lost} | {tally.audit_missing} / "
                f"{tally.audit_extra} | {recovery} |"
            )
        return "\n".join(lines)


def _wait(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


class Terminator:
    """Ends every connection to the database of `url` (from the server's `postgres`
    database, so never its own connection)."""

    def __init__(self, url: str) -> None:
        self.database = make_url(url).database
        self.admin = create_engine(
            make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
        )

    def __call__(self) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %(name)s AND pid <> pg_backend_pid()",
                {"name": self.database},
            )

    def dispose(self) -> None:
        self.admin.dispose()


def _inject(kind: str, server: harness.Server, terminate: Terminator) -> None:
    workers = server.worker_pids()
    if kind == "kill-worker":
        os.kill(max(workers, key=harness.age), signal.SIGKILL)
    elif kind == "kill-two":
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
    else:
        terminate()


def _ready_for(
    kind: str, server: harness.Server, loop: ImportLoop, since: float, needed: int = BETWEEN_FAULTS
) -> bool:
    workers = server.worker_pids()
    if len(workers) != WORKERS or not server.alive():
        return False
    grown = EARLY_DEATH_SECONDS + 0.5
    if kind == "kill-worker" and max(harness.age(p) for p in workers) < grown:
        return False
    if kind == "kill-two" and min(harness.age(p) for p in workers) < grown:
        return False
    return loop.succeeded_count(since) >= needed


def run_postgres(url: str, trials: int, work: Path) -> Figures:
    """`trials` of each fault kind against a server on the empty PostgreSQL database `url`."""
    began = time.monotonic()
    token = harness.clinician_token(url)
    women = Women(templates(dt.date.today()))  # noqa: DTZ011 - the server's calendar day
    schedule = [kind for _ in range(trials) for kind in KINDS]
    done: list[Trial] = []
    extra: list[str] = []
    terminate = Terminator(url)
    try:
        with (
            harness.serving(url, free_port(), WORKERS, work / "server.log") as server,
            ImportLoop(server.port, token, women) as loop,
        ):
            since = time.monotonic()
            # Every template imported whole before the first fault: the reference of what a
            # complete import of it stores.
            warm = 2 * len(women.templates)
            if not _wait(lambda: _ready_for("kill-two", server, loop, since, warm), 180):
                raise AssertionError("the import loop did not get going")
            for kind in schedule:
                if not _wait(lambda k=kind, s=since: _ready_for(k, server, loop, s), 90):  # type: ignore[misc]
                    extra.append(f"before a {kind}: the server did not settle in 90 s")
                    break
                done.append(_fault(kind, server, loop, terminate))
                since = time.monotonic()
                if not server.alive():
                    break
    finally:
        terminate.dispose()
    figures = _judge(url, women, loop.attempts, done, extra)
    figures.seconds = time.monotonic() - began
    return figures


def _fault(kind: str, server: harness.Server, loop: ImportLoop, terminate: Terminator) -> Trial:
    trial = Trial(kind, time.monotonic())
    _inject(kind, server, terminate)
    _wait(lambda: loop.succeeded_since(trial.at) is not None, RECOVERY_TIMEOUT)
    answered = loop.succeeded_since(trial.at)
    if answered is None:
        trial.problems.append(f"no import answered 2xx in {RECOVERY_TIMEOUT:.0f} s")
    else:
        trial.recovery = answered - trial.at
        if trial.recovery >= RECOVERY_LIMIT:
            trial.problems.append(f"answered again only after {trial.recovery:.2f} s")
    if not server.alive():
        trial.problems.append("the server stopped")
    return trial


def _judge(
    url: str, women: Women, attempts: list[Attempt], done: list[Trial], extra: list[str]
) -> Figures:
    engine = make_engine(url)
    try:
        stored = Stored.read(engine, women.prefix)
    finally:
        engine.dispose()
    first_fault = min((t.at for t in done), default=float("inf"))
    expected = expected_signatures(stored, (a for a in attempts if a.sent_at < first_fault))
    unknown = {a.template for a in attempts} - expected.keys()
    extra.extend(
        f"template {t}: no copy was imported before the faults ({_fates(attempts, t)})"
        for t in unknown
    )
    by_kind: dict[str, list[Attempt]] = {name: [] for name in ("before the faults", *KINDS)}
    for attempt in attempts:
        if attempt.template in unknown:
            continue
        # Counted under the last fault before it ended (answered, or its connection failed):
        # the one it may have met.
        ended = attempt.answered_at or attempt.sent_at
        kind = "before the faults"
        for trial in done:
            if ended >= trial.at:
                kind = trial.kind
        by_kind[kind].append(attempt)
    tallies = {kind: check(stored, sent, expected) for kind, sent in by_kind.items()}
    extra.extend(audit_problems(stored))
    if stored.chain_problem:
        extra.append(f"the audit chain does not verify: {stored.chain_problem}")
    return Figures(done, tallies, extra, 0.0)


SQLITE_KIND = "kill -9 server, SQLite (recovery: from the restart)"


def run_sqlite(work: Path, kills: int) -> Figures:
    """The whole server on a SQLite file killed (SIGKILL to supervisor and workers) `kills`
    times mid-loop and started again: the file passes `PRAGMA integrity_check` before and
    after the restart, and every import is all or nothing. A trial's recovery here is from
    the restart to the first import answered 2xx."""
    began = time.monotonic()
    database = work / "faults.db"
    url = f"sqlite:///{database}"
    token = harness.clinician_token(url)
    women = Women(templates(dt.date.today()))  # noqa: DTZ011 - the server's calendar day
    port = free_port()
    attempts: list[Attempt] = []
    done: list[Trial] = []
    extra: list[str] = []
    server = harness.start(url, port, WORKERS, work / "sqlite-server.log")
    trial = Trial(SQLITE_KIND, 0.0)
    try:
        harness.wait_ready(server)
        for round_ in range(kills + 1):
            first = max((a.number for a in attempts), default=-1) + 1
            needed = 2 * len(women.templates) if round_ == 0 else BETWEEN_FAULTS
            with ImportLoop(port, token, women, first=first) as loop:
                if not _wait(lambda n=needed: loop.succeeded_count(0.0) >= n, 120):  # type: ignore[misc]
                    extra.append(f"round {round_}: the loop did not get going")
                if round_ < kills:
                    trial = Trial(SQLITE_KIND, time.monotonic())
                    server.kill_everything()
            attempts.extend(loop.attempts)
            if round_ == kills:
                break
            trial.problems.extend(_integrity(database, "as the kill left it"))
            restarted = time.monotonic()
            server = harness.start(url, port, WORKERS, work / "sqlite-server.log")
            harness.wait_ready(server)
            trial.problems.extend(_integrity(database, "after the restart"))
            trial.at = restarted
            done.append(trial)
        # The first round's imports before its kill are the reference; each later round
        # begins with imports answered 2xx after the restart: its recovery.
        for trial in done:
            answered = [
                a.answered_at
                for a in attempts
                if a.sent_at >= trial.at and a.succeeded and a.answered_at is not None
            ]
            trial.recovery = min(answered) - trial.at if answered else None
            if trial.recovery is None:
                trial.problems.append("no import answered 2xx after the restart")
    finally:
        harness.stop(server)
    figures = _judge_sqlite(url, women, attempts, done, extra)
    figures.seconds = time.monotonic() - began
    return figures


def _fates(attempts: list[Attempt], template: int) -> str:
    """What became of each copy of `template`: its number and its answer's status, or the
    error when no answer came (to tell a refusal from a lost request)."""
    return ", ".join(
        f"#{a.number}: {a.status if a.status is not None else a.error or 'no answer'}"
        for a in attempts
        if a.template == template
    )


def _integrity(database: Path, when: str) -> list[str]:
    with sqlite3.connect(database) as connection:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    connection.close()
    return [] if result == ["ok"] else [f"integrity_check {when}: {result[:5]}"]


def _judge_sqlite(
    url: str, women: Women, attempts: list[Attempt], done: list[Trial], extra: list[str]
) -> Figures:
    engine = make_engine(url)
    try:
        stored = Stored.read(engine, women.prefix)
    finally:
        engine.dispose()
    first_kill = min((t.at for t in done), default=float("inf"))
    expected = expected_signatures(stored, (a for a in attempts if a.sent_at < first_kill))
    unknown = {a.template for a in attempts} - expected.keys()
    extra.extend(
        f"template {t}: no copy was imported before the kill ({_fates(attempts, t)})"
        for t in unknown
    )
    known = [a for a in attempts if a.template not in unknown]
    extra.extend(audit_problems(stored))
    if stored.chain_problem:
        extra.append(f"the audit chain does not verify: {stored.chain_problem}")
    return Figures(done, {SQLITE_KIND: check(stored, known, expected)}, extra, 0.0)
