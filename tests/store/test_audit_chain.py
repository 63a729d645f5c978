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

import pytest
from sqlalchemy import Engine, Table, select, text, update
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
    verify_engine,
)
from cervixwatch.store.database import make_engine, session_factory, transaction
from cervixwatch.store.migrate import upgrade
from cervixwatch.store.models import AuditChainHead, AuditEventRow

EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
HEAD: Table = AuditChainHead.__table__  # type: ignore[assignment]


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
    """`count` entries, appended one by one as the app does; their ids."""
    for n in range(count):
        record(engine, entry(n))
    with engine.connect() as connection:
        return list(connection.scalars(select(EVENTS.c.id).order_by(EVENTS.c.id)))


def drop_append_only_triggers(engine: Engine) -> None:
    """What someone who owns the table could do; the tests then tamper with plain SQL."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_change ON audit_events")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_truncate ON audit_events")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_events_no_delete")


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
        head = connection.execute(select(HEAD)).one()
    assert rows[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.entry_hash
    for row in rows:
        assert entry_hash({c: row._mapping[c] for c in HASHED_COLUMNS}) == row.entry_hash
    assert (head.last_event_id, head.last_hash, head.entries) == (ids[-1], rows[-1].entry_hash, 5)
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
        fields = {c: row._mapping[c] for c in HASHED_COLUMNS} | {"outcome": "denied"}
        connection.execute(
            update(EVENTS)
            .where(EVENTS.c.id == ids[2])
            .values(outcome="denied", entry_hash=entry_hash(fields))
        )
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[3]
    assert f"does not link to entry {ids[2]}" in found.broken.reason


def test_a_deleted_entry_is_found_at_the_next(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.id == ids[3]))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[4]
    assert f"does not link to entry {ids[2]}" in found.broken.reason


@pytest.mark.parametrize("with_hashes", [True, False], ids=["whole-rows", "contents-only"])
def test_reordered_entries_are_named(chain_engine: Engine, with_hashes: bool) -> None:
    """Two entries swap places: every column but the id (their hashes moving with them), or
    only their contents (the hashes left in place)."""
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    moved = [c for c in EVENTS.columns if c.name != "id"]
    if not with_hashes:
        moved = [c for c in moved if c.name not in ("prev_hash", "entry_hash")]
    with chain_engine.begin() as connection:
        first, second = (
            connection.execute(select(*moved).where(EVENTS.c.id == i)).one()._asdict()
            for i in (ids[2], ids[3])
        )
        connection.execute(update(EVENTS).where(EVENTS.c.id == ids[2]).values(**second))
        connection.execute(update(EVENTS).where(EVENTS.c.id == ids[3]).values(**first))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id == ids[2]


def test_a_cut_tail_is_caught_by_the_head(chain_engine: Engine) -> None:
    ids = append(chain_engine, 6)
    drop_append_only_triggers(chain_engine)
    with chain_engine.begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.id >= ids[4]))
    found = verify_engine(chain_engine)
    assert found.broken is not None
    assert found.broken.entry_id is None
    assert f"the log ends at entry {ids[3]} (4 entries)" in found.broken.reason
    assert f"records entry {ids[5]} (6 entries)" in found.broken.reason


def _cut_and_move_head(engine: Engine, keep: int) -> None:
    """Delete the entries after `keep`, and move the head to it, as a careful forger would."""
    with engine.begin() as connection:
        connection.execute(EVENTS.delete().where(EVENTS.c.id > keep))
        kept = connection.execute(select(EVENTS.c.entry_hash).where(EVENTS.c.id == keep))
        count = connection.execute(select(EVENTS.c.id).where(EVENTS.c.id <= keep)).all()
        connection.execute(
            update(HEAD).values(last_event_id=keep, last_hash=kept.scalar_one(), entries=len(count))
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
        found = verify_engine(engine)
        assert found.ok, found.broken
        assert found.entries == 6
        # The append-only triggers set aside for the linking are back.
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(update(EVENTS).values(path="/elsewhere"))
    finally:
        engine.dispose()
