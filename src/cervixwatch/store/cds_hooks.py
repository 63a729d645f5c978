"""CDS Hooks rows (`models.CdsJwtIdRow`, `CdsCardRow`, `CdsFeedbackRow`): a JWT id
remembered once, the cards answered, the feedback received, and the feedback read back with
the card it is about."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cervixwatch.store.models import CdsCardRow, CdsFeedbackRow, CdsJwtIdRow


def jti_key(issuer: str, jti: str) -> str:
    """The stored key of a JWT id: one issuer's ids never collide with another's."""
    return hashlib.sha256(f"{len(issuer)}:{issuer}|{jti}".encode()).hexdigest()


def remember_jti(session: Session, key: str, expires_at: dt.datetime, now: dt.datetime) -> bool:
    """Remember a JWT id until it expires; False when it is already remembered (a replay).
    The insert is the check (ON CONFLICT DO NOTHING: no row returned is a replay), so two
    workers given the same JWT at once cannot both pass. Ids whose JWTs have expired are
    forgotten on the way: they can no longer be replayed."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(CdsJwtIdRow)
        .values(key=key, expires_at=expires_at)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(CdsJwtIdRow.key)
    )
    if session.execute(statement).first() is None:
        return False
    session.execute(delete(CdsJwtIdRow).where(CdsJwtIdRow.expires_at < now))
    return True


def add_cards(session: Session, cards: Iterable[Mapping[str, Any]]) -> None:
    rows = [dict(card) for card in cards]
    if rows:
        session.execute(insert(CdsCardRow), rows)


def add_feedback(session: Session, items: Sequence[Mapping[str, Any]]) -> None:
    if items:
        session.execute(insert(CdsFeedbackRow), [dict(item) for item in items])


def cards_by_uuid(session: Session, uuids: Iterable[str]) -> dict[str, CdsCardRow]:
    wanted = list(set(uuids))
    if not wanted:
        return {}
    rows = session.scalars(select(CdsCardRow).where(CdsCardRow.uuid.in_(wanted)))
    return {row.uuid: row for row in rows}


def feedback_with_cards(
    session: Session, since: dt.datetime | None, limit: int
) -> list[tuple[CdsFeedbackRow, CdsCardRow | None]]:
    """The newest feedback first (received from `since`), each with its card if it was ours."""
    query = (
        select(CdsFeedbackRow, CdsCardRow)
        .outerjoin(CdsCardRow, CdsCardRow.uuid == CdsFeedbackRow.card_uuid)
        .order_by(CdsFeedbackRow.received_at.desc(), CdsFeedbackRow.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(CdsFeedbackRow.received_at >= since)
    return [(feedback, card) for feedback, card in session.execute(query).all()]


def row_counts(session: Session) -> dict[str, int]:
    """How many rows each CDS Hooks table holds (for the tests' "nothing changed")."""
    return {
        table.__tablename__: session.scalar(select(func.count()).select_from(table)) or 0
        for table in (CdsJwtIdRow, CdsCardRow, CdsFeedbackRow)
    }
