"""The audit log as a hash chain (issue 12, part 4): each entry carries the hash of the one
sealed before it, so an entry changed, deleted, inserted or moved after the fact breaks the
chain at that point, and `verify` names where.

An entry's hash is SHA-256 of a canonical serialisation (orjson, keys sorted) of every stored
column but its id and its own hash, with the hash of the entry before it as `prev_hash`: that
is what links it. Columns holding null are left out, so a nullable column added to the table
later leaves the hashes of older entries as they were. The first entry links to
`GENESIS_HASH`; the entries written before the chain existed were linked in id order by
migration 0007.

**Appending and sealing are two steps (migration 0025).** An entry is appended in the
transaction of what it records (a write and its entry stand or fall together) with a row in
`audit_unsealed` beside it, and nothing else: no lock, so concurrent requests never queue on
the chain. The sealer (`seal`: on PostgreSQL a thread in each server worker, about once a
second, `app.audit_sealing`; on SQLite at once, in the appending transaction, as writers are
serial there anyway) then takes the waiting entries, in id order, links each to the end of the
chain and writes its place (`audit_seals`: position, previous hash, own hash). Entries are
sealed in the order their transactions committed, in batches, so an entry with a lower id
that committed later simply takes a later position. Until it is sealed (about a second) an
entry is protected only by the table's append-only triggers; `verify` counts the entries
waiting and reports any entry that is neither sealed nor waiting (written around the chain).
Linking each entry inside its own transaction held the chain's lock from the append to the
commit, so every audited request of every worker queued on one row (docs/performance.md,
session 17, for what sealing later gave the import: 1-2%).

The end of the chain (last entry, its hash, how many entries) is kept in `audit_chain_head`,
one row that the sealer locks and moves: two sealers cannot link to the same entry, and
entries cut off the end no longer reach the head. Someone who can rewrite the tables can
rewrite the head too; a checkpoint kept elsewhere (`Checkpoint`, `cervixwatch audit
checkpoint`) is what proves the chain still passes through what was there when it was taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from cervixwatch.store.database import write_connection
from cervixwatch.store.models import (
    AuditChainHead,
    AuditEventRow,
    AuditSealRow,
    AuditUnsealedRow,
)

#: What the first entry links to.
GENESIS_HASH = "0" * 64

_EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
_HEAD: Table = AuditChainHead.__table__  # type: ignore[assignment]
_SEALS: Table = AuditSealRow.__table__  # type: ignore[assignment]
_UNSEALED: Table = AuditUnsealedRow.__table__  # type: ignore[assignment]
#: The columns an entry's hash covers: all but its id and the hash itself. `prev_hash` is
#: the previous entry's hash as its seal records it.
HASHED_COLUMNS = tuple(str(c.name) for c in _EVENTS.columns if c.name not in ("id", "entry_hash"))
#: The entry's own columns among them (the link comes from its seal).
_CONTENT_COLUMNS = tuple(c for c in HASHED_COLUMNS if c != "prev_hash")
#: How many waiting entries one sealing transaction takes at most.
SEAL_BATCH = 5000


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:  # SQLite's naive UTC text, read without the model's type
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, Enum):
        return value.value
    return value


def entry_hash(fields: Mapping[str, Any]) -> str:
    """The hash of an entry whose stored columns (but `id` and `entry_hash`) are `fields`,
    `prev_hash` included: hex SHA-256 of their canonical JSON."""
    data = {name: _plain(value) for name, value in fields.items() if value is not None}
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _linked_hash(content: Mapping[Any, Any], prev_hash: str) -> str:
    fields = {name: content.get(name) for name in _CONTENT_COLUMNS}
    return entry_hash({**fields, "prev_hash": prev_hash})


# --- appending -----------------------------------------------------------------------------------


@cache
def _append_statement(names: tuple[str, ...]) -> Insert:
    """PostgreSQL: INSERT the entry and, from its RETURNING, its row in `audit_unsealed`,
    in one round trip."""
    entry = (
        insert(_EVENTS)
        .values({name: bindparam(name, type_=_EVENTS.c[name].type) for name in names})
        .returning(_EVENTS.c.id)
        .cte("entry")
    )
    return (
        insert(_UNSEALED)
        .from_select(["event_id"], select(entry.c.id))
        .returning(_UNSEALED.c.event_id)
    )


_INSERT_EVENT = insert(_EVENTS)


def append_entry(connection: Connection, columns: Mapping[str, Any]) -> int:
    """Append an entry with `columns` (all but the hashes) in the connection's transaction;
    its id. On PostgreSQL it waits to be sealed; on SQLite it is sealed at once, in the same
    transaction (the database's write lock is held until the commit anyway)."""
    if connection.dialect.name == "postgresql":
        statement = _append_statement(tuple(sorted(columns)))
        return int(connection.execute(statement, dict(columns)).scalar_one())
    inserted = connection.execute(_INSERT_EVENT, dict(columns)).inserted_primary_key
    assert inserted is not None
    event_id = int(inserted[0])
    head = connection.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row: the database is not migrated")
    _link(connection, head, [(event_id, columns)])
    return event_id


# --- sealing -------------------------------------------------------------------------------------

_LOCK_HEAD = (
    select(_HEAD.c.last_event_id, _HEAD.c.last_hash, _HEAD.c.entries)
    .where(_HEAD.c.id == 1)
    .with_for_update(skip_locked=True)
)
_TAKE_WAITING = (
    delete(_UNSEALED)
    .where(
        _UNSEALED.c.event_id.in_(
            select(_UNSEALED.c.event_id)
            .order_by(_UNSEALED.c.event_id)
            .limit(bindparam("batch"))
            .scalar_subquery()
        )
    )
    .returning(_UNSEALED.c.event_id)
)
_WAITING_ENTRIES = (
    select(_EVENTS.c.id, *(_EVENTS.c[name] for name in _CONTENT_COLUMNS))
    .where(_EVENTS.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(_EVENTS.c.id)
)
_INSERT_SEAL = insert(_SEALS)


def seal(connection: Connection, *, batch: int = SEAL_BATCH) -> int:
    """Seal up to `batch` waiting entries, in id order, onto the end of the chain, in the
    connection's transaction; how many. 0 when none wait, or when another sealer holds the
    chain's head (it will seal them)."""
    head = connection.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        if connection.execute(select(_HEAD.c.id).where(_HEAD.c.id == 1)).first() is None:
            raise RuntimeError("audit_chain_head has no row: the database is not migrated")
        return 0  # another sealer is at work
    ids = list(connection.scalars(_TAKE_WAITING, {"batch": batch}))
    if not ids:
        return 0
    entries = connection.execute(_WAITING_ENTRIES, {"ids": ids}).all()
    if len(entries) != len(ids):
        found = {e.id for e in entries}
        missing = sorted(set(ids) - found)
        raise RuntimeError(
            f"audit entries {missing[:5]} wait to be sealed but are not in the log: "
            "deleted around the append-only triggers"
        )
    _link(connection, head, [(e.id, e._mapping) for e in entries])
    return len(entries)


def _link(
    connection: Connection, head: Any, entries: Sequence[tuple[int, Mapping[Any, Any]]]
) -> None:
    """Seal `entries` (id, content), in that order, after the chain's `head` (locked), and
    move the head to the last of them."""
    last_hash, position = head.last_hash, head.entries
    seals = []
    for event_id, content in entries:
        position += 1
        digest = _linked_hash(content, last_hash)
        seals.append(
            {
                "position": position,
                "event_id": event_id,
                "prev_hash": last_hash,
                "entry_hash": digest,
            }
        )
        last_hash = digest
    connection.execute(_INSERT_SEAL, seals)
    connection.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_event_id=entries[-1][0], last_hash=last_hash, entries=position)
    )


def seal_engine(engine: Engine, *, batch: int = SEAL_BATCH) -> int:
    """Seal every entry waiting now, a transaction per `batch`; how many."""
    total = 0
    while True:
        with write_connection(engine) as connection:
            sealed = seal(connection, batch=batch)
        total += sealed
        if sealed < batch:
            return total


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The end of the chain at one moment: the last entry's id and hash, how many entries
    the chain held and when. Kept outside the database (a JSON line), it lets `verify`
    prove the chain still passes through that entry, unchanged."""

    entry_id: int | None
    entry_hash: str
    entries: int
    taken_at: dt.datetime

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "entry_id": self.entry_id,
                "entry_hash": self.entry_hash,
                "entries": self.entries,
                "taken_at": self.taken_at.astimezone(dt.UTC).isoformat(),
            }
        )

    @classmethod
    def from_json(cls, line: bytes | str) -> Checkpoint:
        """A checkpoint from one line `to_json` wrote; ValueError if it is not one."""
        try:
            data = orjson.loads(line)
            entry_id = data["entry_id"]
            digest = data["entry_hash"]
            entries = data["entries"]
            taken_at = dt.datetime.fromisoformat(data["taken_at"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(f"not a checkpoint ({type(error).__name__}: {error})") from None
        if not (entry_id is None or isinstance(entry_id, int)) or not isinstance(entries, int):
            raise ValueError("not a checkpoint: entry_id and entries must be integers")
        if not isinstance(digest, str) or len(digest) != 64:
            raise ValueError("not a checkpoint: entry_hash must be 64 hex digits")
        if taken_at.tzinfo is None:
            raise ValueError("not a checkpoint: taken_at has no time zone")
        return cls(entry_id, digest, entries, taken_at)


def read_checkpoints(lines: Iterable[bytes | str]) -> list[Checkpoint]:
    """The checkpoints of a file's lines (blank lines skipped); ValueError naming the line."""
    found = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                found.append(Checkpoint.from_json(line))
            except ValueError as error:
                raise ValueError(f"line {number}: {error}") from None
    return found


def checkpoint(connection: Connection, now: dt.datetime) -> Checkpoint:
    """The end of the chain now, as recorded in the head row."""
    head = connection.execute(select(_HEAD).where(_HEAD.c.id == 1)).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row: the database is not migrated to 0007")
    return Checkpoint(head.last_event_id, head.last_hash, head.entries, now)


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain is broken: the first entry found wrong (None when the break is at
    the end: entries missing after the last one) and why, in words with ids only."""

    entry_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class Verification:
    """What `verify` found: how many entries it checked, the last good one, and the first
    break (None if the chain holds); `waiting`: entries appended and not sealed yet (about a
    second's worth on a busy server; sealed by the next run of the sealer)."""

    entries: int
    last_entry_id: int | None
    last_hash: str
    checkpoints: int
    broken: Break | None
    waiting: int = field(default=0)

    @property
    def ok(self) -> bool:
        return self.broken is None


def _sealed(connection: Connection, batch: int) -> Iterator[Any]:
    """The chain in order: each seal with its entry's columns (None when the entry is gone)
    and the hashes the entry's own row keeps (entries linked before migration 0025)."""
    query = (
        select(
            _SEALS.c.position,
            _SEALS.c.event_id,
            _SEALS.c.prev_hash,
            _SEALS.c.entry_hash,
            _EVENTS.c.id.label("found_id"),
            _EVENTS.c.prev_hash.label("own_prev_hash"),
            _EVENTS.c.entry_hash.label("own_entry_hash"),
            *(_EVENTS.c[name] for name in _CONTENT_COLUMNS),
        )
        .select_from(_SEALS.outerjoin(_EVENTS, _EVENTS.c.id == _SEALS.c.event_id))
        .order_by(_SEALS.c.position)
        .limit(batch)
    )
    last = 0
    while True:
        rows = connection.execute(query.where(_SEALS.c.position > last)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1].position


def _walk(connection: Connection, kept: dict[int, Checkpoint], batch: int) -> Verification:
    previous_id: int | None = None
    previous_hash = GENESIS_HASH
    count = 0
    seen: set[int] = set()

    def broken(entry_id: int | None, reason: str) -> Verification:
        return Verification(count, previous_id, previous_hash, len(kept), Break(entry_id, reason))

    after = "the start of the chain"
    for row in _sealed(connection, batch):
        entry_id = row.event_id
        if row.found_id is None:
            return broken(
                entry_id,
                f"entry {entry_id} is sealed in the chain but gone from the log: it was deleted",
            )
        if row.prev_hash != previous_hash:
            return broken(
                entry_id,
                f"entry {entry_id} does not link to {after}: an entry before it was changed, "
                "deleted, inserted or moved",
            )
        if _linked_hash(row._mapping, row.prev_hash) != row.entry_hash:
            return broken(entry_id, f"entry {entry_id} does not match its hash: it was changed")
        if row.own_entry_hash is not None and (row.own_prev_hash, row.own_entry_hash) != (
            row.prev_hash,
            row.entry_hash,
        ):
            return broken(
                entry_id,
                f"entry {entry_id} does not match its hash: the hashes in its own row differ "
                "from its seal",
            )
        if (kept_here := kept.get(entry_id)) is not None:
            if kept_here.entry_hash != row.entry_hash:
                return broken(
                    entry_id,
                    f"entry {entry_id} is not the entry of the checkpoint taken "
                    f"{kept_here.taken_at.isoformat()}: the chain was rewritten",
                )
            seen.add(entry_id)
        count += 1
        previous_id, previous_hash = entry_id, row.entry_hash
        after = f"entry {entry_id}"
    for taken in kept.values():
        if taken.entry_id not in seen:
            return broken(
                None,
                f"entry {taken.entry_id} of the checkpoint taken {taken.taken_at.isoformat()} "
                f"is missing (the log ends at {after}): entries were deleted",
            )
        if taken.entries > count:
            return broken(
                None,
                f"the chain holds {count} entries, fewer than the {taken.entries} of the "
                f"checkpoint taken {taken.taken_at.isoformat()}",
            )
    return Verification(count, previous_id, previous_hash, len(kept), None)


_NOT_SEALED = (
    select(_EVENTS.c.id, _UNSEALED.c.event_id.label("waiting"))
    .select_from(
        _EVENTS.outerjoin(_SEALS, _SEALS.c.event_id == _EVENTS.c.id).outerjoin(
            _UNSEALED, _UNSEALED.c.event_id == _EVENTS.c.id
        )
    )
    .where(_SEALS.c.event_id.is_(None))
    .order_by(_EVENTS.c.id)
)


def _unsealed(connection: Connection, found: Verification) -> Verification:
    """`found`, with the entries waiting to be sealed counted, or broken at the first entry
    that is neither sealed nor waiting."""
    waiting = 0
    for row in connection.execute(_NOT_SEALED):
        if row.waiting is None:
            return _with_break(
                found,
                Break(
                    row.id,
                    f"entry {row.id} carries no hash and waits for none: written around the chain",
                ),
            )
        waiting += 1
    return Verification(
        found.entries, found.last_entry_id, found.last_hash, found.checkpoints, None, waiting
    )


def verify(
    connection: Connection, checkpoints: Iterable[Checkpoint] = (), *, batch: int = 2000
) -> Verification:
    """Walk the chain in order from the genesis hash, checking each entry's link and hash,
    then that the head row ends where the walk did, that the chain passes, unchanged,
    through each kept checkpoint, and that every entry not sealed yet is waiting to be.
    Stops at the first break. Run it in one transaction (on PostgreSQL at REPEATABLE READ,
    as `verify_engine` does) so entries sealed meanwhile are not half seen."""
    given = list(checkpoints)
    kept = {c.entry_id: c for c in given if c.entry_id is not None}
    empty = [c for c in given if c.entry_id is None and c.entry_hash != GENESIS_HASH]
    if empty:
        return Verification(
            0,
            None,
            GENESIS_HASH,
            len(kept),
            Break(None, "a checkpoint of an empty chain must carry the genesis hash"),
        )
    found = _walk(connection, kept, batch)
    if not found.ok:
        return found
    head = connection.execute(select(_HEAD).where(_HEAD.c.id == 1)).one_or_none()
    if head is None:
        return _with_break(found, Break(None, "the chain head (audit_chain_head) is missing"))
    if (head.last_event_id, head.last_hash, head.entries) != (
        found.last_entry_id,
        found.last_hash,
        found.entries,
    ):
        return _with_break(
            found,
            Break(
                None,
                f"the log ends at entry {found.last_entry_id} ({found.entries} entries) but "
                f"the chain head records entry {head.last_event_id} ({head.entries} entries): "
                "entries at its end were deleted, or the head was changed",
            ),
        )
    return _unsealed(connection, found)


def _with_break(found: Verification, problem: Break) -> Verification:
    return Verification(
        found.entries, found.last_entry_id, found.last_hash, found.checkpoints, problem
    )


def verify_engine(engine: Engine, checkpoints: Iterable[Checkpoint] = ()) -> Verification:
    """`verify` in one read-only snapshot of the database: REPEATABLE READ on PostgreSQL
    (entries appended meanwhile are not seen, and the head is read as of the same moment);
    a SQLite read transaction is a snapshot already."""
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        return verify(connection, checkpoints)


def checkpoint_engine(engine: Engine, now: dt.datetime) -> Checkpoint:
    """`checkpoint` in a transaction of its own."""
    with engine.connect() as connection, connection.begin():
        return checkpoint(connection, now)
