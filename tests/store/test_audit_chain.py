"""The audit log's hash chain (issue 12, part 4): it verifies as written, and with the
append-only triggers dropped (as someone holding the database could), an edited, deleted or
moved entry, or a tail cut off and rewritten past a kept checkpoint, is each caught, the first
broken entry named. Each test has a database of its own: tampering would break the shared one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, Row, Table, func, select, text, update
from sqlalchemy.exc import DBAPIError

from cervixwatch.store.audit import AuditEntry, record
from cervixwatch.store.audit import append as append_in
from cervixwatch.store.audit_chain import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    Checkpoint,
    checkpoint_engine,
    entry_hash,
    read_checkpoints,
    seal_engine,
    verify_engine,
)
from cervixwatch.store.database import make_engine, session_factory, transaction
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import AuditChainHead, AuditEventRow, AuditSealRow, AuditUnsealedRow

EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
HEAD: Table = AuditChainHead.__table__  # type: ignore[assignment]
SEALS: Table = AuditSealRow.__table__  # type: ignore[assignment]
UNSEALED: Table = AuditUnsealedRow.__table__  # type: ignore[assignment]


@pytest.fixture
def chain_engine(empty_url: str) -> Iterator[Engine]:
    """A database of its own, migrated, holding no entry yet."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        yield engine
    finally:
        engine.dispose()


def entry(n: int, **fields: object) -> AuditEntry:
    return AuditEntry(
        action="read",
        method="GET",
        route="/api/patients/{patient_id}",
        path=f"/api/patients/p-{n}",
        status=200,
        request_id=f"r-{n}",
        actor_id="u-1",
        actor_role="clinician",
        patient_id=f"p-{n}",
        **fields,  # type: ignore[arg-type]
    )


def append(engine: Engine, count: int) -> list[int]:
    """`count` entries, appended one by one as the app does, then sealed (as a server's
    sealer would within a second on PostgreSQL); their ids."""
    for n in range(count):
        record(engine, entry(n))
    seal_engine(engine)
    with engine.connect() as connection:
        return list(connection.scalars(select(EVENTS.c.id).order_by(EVENTS.c.id)))


def drop_append_only_triggers(engine: Engine) -> None:
    """What someone who owns the table could do; the tests then tamper with plain SQL."""
    with engine.begin() as connection:
        for table in ("audit_events", "audit_seals"):
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"DROP TRIGGER {table}_no_change ON {table}")
                connection.exec_driver_sql(f"DROP TRIGGER {table}_no_truncate ON {table}")
            else:
                connection.exec_driver_sql(f"DROP TRIGGER {table}_no_update")
                connection.exec_driver_sql(f"DROP TRIGGER {table}_no_delete")


def seal_of(connection: Connection, event_id: int) -> Row[Any]:
    return connection.execute(select(SEALS).where(SEALS.c.event_id == event_id)).one()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- as written ----------------------------------------------------------------------------------


def test_an_empty_log_verifies(chain_engine: Engine) -> None:
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    assert (found.entries, found.last_entry_id, found.last_hash) == (0, None, GENESIS_HASH)


def test_each_entry_links_to_the_one_before(chain_engine: Engine) -> None:
    ids = append(chain_engine, 5)
    with chain_engine.connect() as connection:
        rows = connection.execute(select(EVENTS).order_by(EVENTS.c.id)).all()
        seals = connection.execute(select(SEALS).order_by(SEALS.c.position)).all()
        head = connection.execute(select(HEAD)).one()
    assert [s.event_id for s in seals] == ids
    assert [s.position for s in seals] == [1, 2, 3, 4, 5]
    assert seals[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(seals):
        assert after.prev_hash == before.entry_hash
    for row, sealed in zip(rows, seals, strict=True):
        fields = {c: row._mapping[c] for c in HASHED_COLUMNS} | {"prev_hash": sealed.prev_hash}
        assert entry_hash(fields) == sealed.entry_hash
        assert (row.prev_hash, row.entry_hash) == (None, None)  # kept in the seal only
    assert (head.last_event_id, head.last_hash, head.entries) == (ids[-1], seals[-1].entry_hash, 5)
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    assert (found.entries, found.last_entry_id) == (5, ids[-1])


def test_concurrent_appends_never_link_to_the_same_entry(chain_engine: Engine) -> None:
    """Eight threads, each with its own connections, append at once, half in transactions of
    their own (as the middleware does) and half inside a write's transaction (as an import
    does). On PostgreSQL the head row's lock is what keeps the chain one line; SQLite
    serialises writers."""
    threads, each = 8, 25
    failures: list[BaseException] = []
    sessions = session_factory(chain_engine)

    def work(t: int) -> None:
        try:
            for n in range(each):
                if t % 2:
                    record(chain_engine, entry(t * 1000 + n))
                else:
                    with transaction(sessions) as session:
                        append_in(session, entry(t * 1000 + n))
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    seal_engine(chain_engine)
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    assert found.entries == threads * each


# --- tampered with -------------------------------------------------------------------------------


def test_an_edited_entry_is_named(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        connection.execute(update(EVENTS).where(EVENTS.c.id == ids[2]).values(actor_id="u-2"))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[2]
    assert "does not match its hash" in found.broken.reason
    assert (found.entries, found.last_entry_id) == (2, ids[1])


def test_an_edited_entry_given_a_new_hash_breaks_the_next_link(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        row = connection.execute(select(EVENTS).where(EVENTS.c.id == ids[2])).one()
        sealed = seal_of(connection, ids[2])
        fields = {c: row._mapping[c] for c in HASHED_COLUMNS} | {
            "outcome": "denied",
            "prev_hash": sealed.prev_hash,
        }
        connection.execute(update(EVENTS).where(EVENTS.c.id == ids[2]).values(outcome="denied"))
        connection.execute(
            update(SEALS).where(SEALS.c.event_id == ids[2]).values(entry_hash=entry_hash(fields))
        )
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[3]
    assert f"does not link to entry {ids[2]}" in found.broken.reason


def test_a_deleted_entry_is_named(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.id == ids[3]))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[3]
    assert "gone from the log" in found.broken.reason


def test_a_deleted_entry_and_its_seal_are_found_at_the_next(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.id == ids[3]))
        connection.execute(SEALS.delete().where(SEALS.c.event_id == ids[3]))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[4]
    assert f"does not link to entry {ids[2]}" in found.broken.reason


@pytest.mark.parametrize("moved", ["contents", "seals"])
def test_reordered_entries_are_named(chain_engine: Engine, moved: str) -> None:
    """Two entries swap places: their contents (every column but the id), or their places in
    the chain (their seals' positions, the hashes moving with them)."""
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        if moved == "contents":
            columns = [c for c in EVENTS.columns if c.name != "id"]
            first, second = (
                connection.execute(select(*columns).where(EVENTS.c.id == i)).one()._asdict()
                for i in (ids[2], ids[3])
            )
            connection.execute(update(EVENTS).where(EVENTS.c.id == ids[2]).values(**second))
            connection.execute(update(EVENTS).where(EVENTS.c.id == ids[3]).values(**first))
        else:
            first_at, second_at = (seal_of(connection, i).position for i in (ids[2], ids[3]))
            connection.execute(
                update(SEALS).where(SEALS.c.position == first_at).values(position=-1)
            )
            connection.execute(
                update(SEALS).where(SEALS.c.position == second_at).values(position=first_at)
            )
            connection.execute(
                update(SEALS).where(SEALS.c.position == -1).values(position=second_at)
            )
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == (ids[2] if moved == "contents" else ids[3])


def _cut(connection: Connection, after: int) -> None:
    connection.execute(SEALS.delete().where(SEALS.c.event_id > after))
    connection.execute(EVENTS.delete().where(EVENTS.c.id > after))


def test_a_cut_tail_is_caught_by_the_head(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        _cut(connection, ids[3])
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id is None
    assert f"the log ends at entry {ids[3]} (4 entries)" in found.broken.reason
    assert f"records entry {ids[5]} (6 entries)" in found.broken.reason


def _cut_and_move_head(engine: Engine, keep: int) -> None:
    """Delete the entries after `keep` and their seals, and move the head to it, as a
    careful forger would."""
    with engine.begin() as connection:
        _cut(connection, keep)
        kept = seal_of(connection, keep)
        connection.execute(
            update(HEAD).values(
                last_event_id=keep, last_hash=kept.entry_hash, entries=kept.position
            )
        )


@pytest.mark.parametrize("rewritten", [False, True], ids=["cut", "cut-and-rewritten"])
def test_a_cut_tail_with_a_moved_head_is_caught_by_a_kept_checkpoint(
    chain_engine: Engine, rewritten: bool
) -> None:
    ids = append(chain_engine, 6)
    kept = checkpoint_engine(chain_engine, now())
    assert (kept.entry_id, kept.entries) == (ids[-1], 6)
    # Kept elsewhere as a JSON line, and read back from it.
    (kept,) = read_checkpoints([kept.to_json()])
    drop_append_only_triggers(chain_engine)
    _cut_and_move_head(chain_engine, ids[3])
    if rewritten:  # new entries appended in place of the ones cut off
        for n in range(3):
            record(chain_engine, entry(100 + n))
        seal_engine(chain_engine)
    # The chain in the database is consistent with itself: only the checkpoint shows the cut.
    assert verify_engine(chain_engine).ok
    found = verify_engine(chain_engine, [kept])
    assert found.broken is not None
    if rewritten and chain_engine.dialect.name == "sqlite":
        # SQLite gives the cut ids again: the entry at the checkpoint's id is another.
        assert found.broken.entry_id == ids[-1]
        assert "is not the entry of the checkpoint" in found.broken.reason
    else:
        assert found.broken.entry_id is None
        assert f"entry {ids[-1]} of the checkpoint taken" in found.broken.reason


def test_an_entry_written_around_the_chain_is_named(chain_engine: Engine) -> None:
    ids = append(chain_engine, 2)
    with chain_engine.begin() as connection:
        connection.execute(
            EVENTS.insert().values(
                recorded_at=now(),
                action="read",
                method="GET",
                route="/x",
                path="/x",
                outcome="success",
                status=200,
                request_id="sneaked-in",
            )
        )
        sneaked = connection.scalar(select(EVENTS.c.id).where(EVENTS.c.request_id == "sneaked-in"))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == sneaked != ids[-1]
    assert "carries no hash" in found.broken.reason


def test_entries_wait_to_be_sealed_and_verify_while_they_wait(chain_engine: Engine) -> None:
    """On PostgreSQL an entry is sealed after its transaction, by the sealer: until then the
    chain verifies, counting it as waiting; SQLite seals it as it is appended."""
    ids = append(chain_engine, 2)
    for n in range(3):
        record(chain_engine, entry(10 + n))
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    postgresql = chain_engine.dialect.name == "postgresql"
    assert (found.entries, found.waiting) == ((2, 3) if postgresql else (5, 0))
    assert seal_engine(chain_engine) == (3 if postgresql else 0)
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    assert (found.entries, found.waiting) == (5, 0)
    assert found.last_entry_id is not None
    assert found.last_entry_id > ids[-1]


def test_an_entry_taken_off_the_waiting_list_is_named(chain_engine: Engine) -> None:
    if chain_engine.dialect.name != "postgresql":
        pytest.skip("on SQLite an entry never waits: it is sealed as it is appended")
    append(chain_engine, 2)
    record(chain_engine, entry(9))
    with chain_engine.begin() as connection:
        waiting = connection.scalar(select(UNSEALED.c.event_id))
        connection.execute(UNSEALED.delete())
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == waiting
    assert "waits for none" in found.broken.reason


def test_a_seal_cannot_be_changed_or_deleted(chain_engine: Engine) -> None:
    append(chain_engine, 2)
    for change in (
        update(SEALS).values(entry_hash="f" * 64),
        SEALS.delete(),
    ):
        with pytest.raises(DBAPIError, match="append-only"), chain_engine.begin() as connection:
            connection.execute(change)
    with chain_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(SEALS)) == 2


def test_sealers_at_once_seal_each_entry_once(chain_engine: Engine) -> None:
    """Four threads seal while eight append: each entry is sealed once, in one line."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def sealing() -> None:
        try:
            while not stop.is_set():
                seal_engine(chain_engine, batch=7)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    def appending(t: int) -> None:
        try:
            for n in range(20):
                record(chain_engine, entry(t * 100 + n))
        except BaseException as error:
            failures.append(error)

    sealers = [threading.Thread(target=sealing) for _ in range(4)]
    appenders = [threading.Thread(target=appending, args=(t,)) for t in range(8)]
    for thread in (*sealers, *appenders):
        thread.start()
    for thread in appenders:
        thread.join()
    stop.set()
    for thread in sealers:
        thread.join()
    assert failures == []
    seal_engine(chain_engine)
    found = verify_engine(chain_engine)
    assert found.ok, found.broken
    assert (found.entries, found.waiting) == (160, 0)


def test_checkpoints_are_checked_when_read() -> None:
    good = Checkpoint(3, "a" * 64, 3, now())
    assert read_checkpoints([good.to_json(), b"", good.to_json().decode()]) == [good, good]
    with pytest.raises(ValueError, match="line 2"):
        read_checkpoints([good.to_json(), b'{"entry_id": 1}'])
    with pytest.raises(ValueError, match="64 hex"):
        Checkpoint.from_json(
            b'{"entry_id": 1, "entry_hash": "x", "entries": 1, "taken_at": '
            b'"2026-01-01T00:00:00+00:00"}'
        )


# --- the migration -------------------------------------------------------------------------------


def test_0007_links_the_entries_already_written(empty_url: str) -> None:
    """Entries written before the chain are linked in id order by the migration, with the
    hash the app computes (the migration's own frozen copy agrees with it)."""
    upgrade(empty_url, "0006")
    engine = make_engine(empty_url)
    try:
        with engine.begin() as connection:
            for n in range(5):
                connection.execute(
                    text(
                        "INSERT INTO audit_events (recorded_at, actor_id, action, method, route, "
                        "path, outcome, status, request_id, target_user_id) VALUES (:at, 'u-1', "
                        "'read', 'GET', '/r', :path, 'success', 200, :rid, :target)"
                    ),
                    {
                        "at": dt.datetime(2026, 1, 2, 3, 4, 5, 6789 * n, tzinfo=dt.UTC)
                        if engine.dialect.name == "postgresql"
                        else f"2026-01-02 03:04:05.{6789 * n:06d}",
                        "path": f"/r/{n}",
                        "rid": f"old-{n}",
                        "target": None if n % 2 else "u-9",
                    },
                )
        upgrade(empty_url)
        found = verify_engine(engine)
        assert found.ok, found.broken
        assert found.entries == 5
        record(engine, entry(1))
        seal_engine(engine)
        found = verify_engine(engine)
        assert found.ok, found.broken
        assert found.entries == 6
        # The append-only triggers set aside for the linking are back.
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(update(EVENTS).values(path="/elsewhere"))
    finally:
        engine.dispose()
