"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timestamp-with-time-zone and no JSONB; these types hide the difference so the
models, the migrations and the code that reads rows see one behaviour on both databases.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Enum, LargeBinary
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

#: JSON documents: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
JSONDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")
#: Bytes kept as received (a device's message): BLOB on SQLite, bytea on PostgreSQL.
Bytes = LargeBinary()


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An instant, stored in UTC and always read back time-zone aware (UTC).

    PostgreSQL keeps `timestamptz`; SQLite keeps naive UTC text, so the zone is put back on
    read. A naive datetime is refused on write: its meaning (which clock?) would be a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} has no time zone")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def value_enum(enum: type[StrEnum], name: str) -> Enum:
    """A domain StrEnum stored as its string value (`live-birth`, not `LIVE_BIRTH`).

    VARCHAR plus a CHECK constraint on both databases rather than a PostgreSQL ENUM type: a new
    domain value then needs only a new CHECK in a migration, the same on SQLite and PostgreSQL.
    The width leaves room for values added later without widening the column.
    """
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
    )
