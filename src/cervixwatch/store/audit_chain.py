"""The audit log as a hash chain (issue 12, part 4): each entry carries the hash of the one
written before it, so an entry changed, deleted, inserted or moved after the fact breaks the
chain at that point, and `verify` names where.

An entry's hash is SHA-256 of a canonical serialisation (orjson, keys sorted) of every stored
column but its id and its own hash: `prev_hash` is one of those columns, which is what links
it. Columns holding null are left out, so a nullable column added to the table later leaves
the hashes of older entries as they were. The first entry links to `GENESIS_HASH`; the entries
written before the chain existed were linked in id order by migration 0007.

The end of the chain (last entry, its hash, how many entries) is kept in `audit_chain_head`,
one row that each append locks and moves: two concurrent appends cannot link to the same
entry, and entries cut off the end no longer reach the head. Someone who can rewrite the
table can rewrite the head too; a checkpoint kept elsewhere (`Checkpoint`, `cervixwatch audit
checkpoint`) is what proves the chain still passes through what was there when it was taken.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    LargeBinary,
    Table,
    Update,
    bindparam,
    func,
    insert,
    select,
    update,
)

from cervixwatch.store.models import AuditChainHead, AuditEventRow

#: What the first entry links to.
GENESIS_HASH = "0" * 64

_EVENTS: Table = AuditEventRow.__table__  # type: ignore[assignment]
_HEAD: Table = AuditChainHead.__table__  # type: ignore[assignment]
#: The columns an entry's hash covers: all but its id and the hash itself.
HASHED_COLUMNS = tuple(c.name for c in _EVENTS.columns if c.name not in ("id", "entry_hash"))


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


_LOCK_HEAD = select(_HEAD.c.last_hash, _HEAD.c.entries).where(_HEAD.c.id == 1).with_for_update()
_INSERT = insert(AuditEventRow)


def append_linked(connection: Connection, columns: Mapping[str, Any]) -> int:
    """Insert an entry with `columns` (all but `prev_hash` and `entry_hash`) linked to the
    end of the chain, and move the end to it, in the connection's transaction; its id.

    The head row is locked until the transaction ends (on SQLite the write lock is held
    anyway), so the caller should append last, just before it commits."""
    if connection.dialect.name == "postgresql":
        return _append_in_one_statement(connection, columns)
    head = connection.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row: the database is not migrated to 0007")
    linked = {**columns, "prev_hash": head.last_hash}
    linked["entry_hash"] = digest = entry_hash(linked)
    inserted = connection.execute(_INSERT, linked).inserted_primary_key
    assert inserted is not None
    event_id = inserted[0]
    connection.execute(
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(last_event_id=event_id, last_hash=digest, entries=head.entries + 1)
    )
    return int(event_id)


# --- PostgreSQL: the append in one statement ----------------------------------------------------
#
# Every import and every request that touches a woman's data appends, and each append holds
# the head's lock until its transaction commits: the appends of all workers queue there. Read,
# insert and move as three statements, the lock was held for three round trips (and the GIL
# waits between them), which cost a sixth of the import's throughput at 8 clients
# (docs/performance.md). One statement does the three on the server: the entry's canonical
# JSON is made here with a marker in place of the previous hash, split around it, and the
# database hashes prefix + previous hash + suffix with its own SHA-256 (`sha256`, PostgreSQL
# 11 and later), so the entry's hash is the very one `entry_hash` gives (verify checks it).

#: Where the previous hash goes in an entry's canonical JSON: its key, sorted among the
#: others, and its value's opening quote. A key cannot be mistaken for text inside a value,
#: where every quote is escaped.
_PREV_KEY = b'"prev_hash":"'
_MARKER = "?" * 64


def _around_prev_hash(columns: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """The entry's canonical JSON (as `entry_hash` hashes it) before and after the value of
    its previous hash."""
    data = {name: _plain(value) for name, value in columns.items() if value is not None}
    data["prev_hash"] = _MARKER
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS)
    start = text.index(_PREV_KEY) + len(_PREV_KEY)
    end = start + len(_MARKER)
    assert text[start:end] == _MARKER.encode()
    return text[:start], text[end:]


@cache
def _one_statement(names: tuple[str, ...]) -> Update:
    """UPDATE the head FROM (INSERT the entry SELECTed FROM (the head, locked)): the entry
    linked to the head as it is once the lock is had, and the head moved to it."""
    head = select(_HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update().cte("head")
    linked_hash = func.encode(
        func.sha256(
            bindparam("_hash_prefix", type_=LargeBinary)
            .op("||")(func.convert_to(head.c.last_hash, "UTF8"))
            .op("||")(bindparam("_hash_suffix", type_=LargeBinary))
        ),
        "hex",
    )
    values = select(
        *(bindparam(name, type_=_EVENTS.c[name].type) for name in names),
        head.c.last_hash,
        linked_hash,
    ).select_from(head)
    inserted: Insert = insert(_EVENTS).from_select([*names, "prev_hash", "entry_hash"], values)
    entry = inserted.returning(_EVENTS.c.id, _EVENTS.c.entry_hash).cte("entry")
    # The entry's columns as subqueries, not a FROM joined on the head's old hash: the UPDATE
    # sees the head row as it was when the statement began; only a condition on its id lets
    # PostgreSQL re-read it as the transaction that held the lock before left it.
    return (
        update(_HEAD)
        .where(_HEAD.c.id == 1)
        .values(
            last_event_id=select(entry.c.id).scalar_subquery(),
            last_hash=select(entry.c.entry_hash).scalar_subquery(),
            entries=_HEAD.c.entries + 1,
        )
        .returning(_HEAD.c.last_event_id)
    )


def _append_in_one_statement(connection: Connection, columns: Mapping[str, Any]) -> int:
    names = tuple(sorted(columns))
    prefix, suffix = _around_prev_hash(columns)
    params = {**columns, "_hash_prefix": prefix, "_hash_suffix": suffix}
    event_id = connection.execute(_one_statement(names), params).scalar_one_or_none()
    if event_id is None:
        raise RuntimeError("audit_chain_head has no row: the database is not migrated to 0007")
    return int(event_id)


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
    break (None if the chain holds)."""

    entries: int
    last_entry_id: int | None
    last_hash: str
    checkpoints: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _rows(connection: Connection, batch: int) -> Iterator[Any]:
    last_id: int | None = None
    query = select(_EVENTS).order_by(_EVENTS.c.id).limit(batch)
    while True:
        page = query if last_id is None else query.where(_EVENTS.c.id > last_id)
        rows = connection.execute(page).all()
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id


def _walk(connection: Connection, kept: dict[int, Checkpoint], batch: int) -> Verification:
    previous_id: int | None = None
    previous_hash = GENESIS_HASH
    count = 0
    seen: set[int] = set()

    def broken(entry_id: int | None, reason: str) -> Verification:
        return Verification(count, previous_id, previous_hash, len(kept), Break(entry_id, reason))

    after = "the start of the chain"
    for row in _rows(connection, batch):
        fields = row._mapping
        if row.prev_hash is None or row.entry_hash is None:
            return broken(row.id, f"entry {row.id} carries no hash: written around the chain")
        if row.prev_hash != previous_hash:
            return broken(
                row.id,
                f"entry {row.id} does not link to {after}: an entry before it was changed, "
                "deleted, inserted or moved",
            )
        if entry_hash({name: fields[name] for name in HASHED_COLUMNS}) != row.entry_hash:
            return broken(row.id, f"entry {row.id} does not match its hash: it was changed")
        if (kept_here := kept.get(row.id)) is not None:
            if kept_here.entry_hash != row.entry_hash:
                return broken(
                    row.id,
                    f"entry {row.id} is not the entry of the checkpoint taken "
                    f"{kept_here.taken_at.isoformat()}: the chain was rewritten",
                )
            seen.add(row.id)
        count += 1
        previous_id, previous_hash = row.id, row.entry_hash
        after = f"entry {row.id}"
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


def verify(
    connection: Connection, checkpoints: Iterable[Checkpoint] = (), *, batch: int = 2000
) -> Verification:
    """Walk the log in id order from the genesis hash, checking each entry's link and hash,
    then that the head row ends where the walk did, and that the chain passes, unchanged,
    through each kept checkpoint. Stops at the first break. Run it in one transaction
    (on PostgreSQL at REPEATABLE READ, as `verify_engine` does) so entries appended
    meanwhile are not half seen."""
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
    return found


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
