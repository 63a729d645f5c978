"""SMART on FHIR's rows: registered apps, authorization codes, and SMART access tokens
(`api_tokens` with their scopes). `app.smart_server` decides; this reads and writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cervixwatch.store.models import ApiTokenRow, SmartClientRow, SmartCodeRow


def client(session: Session, client_id: str) -> SmartClientRow | None:
    """The app registered as `client_id`, if it is not disabled."""
    return session.scalar(
        select(SmartClientRow).where(
            SmartClientRow.client_id == client_id, SmartClientRow.disabled_at.is_(None)
        )
    )


def clients(session: Session) -> Sequence[SmartClientRow]:
    return session.scalars(select(SmartClientRow).order_by(SmartClientRow.client_id)).all()


def add_client(
    session: Session,
    *,
    client_id: str,
    name: str,
    kind: str,
    redirect_uris: list[str],
    scopes: str,
    jwks: dict[str, Any] | None,
    user_id: str | None,
) -> SmartClientRow:
    row = SmartClientRow(
        client_id=client_id,
        name=name,
        kind=kind,
        redirect_uris=redirect_uris,
        scopes=scopes,
        jwks=jwks,
        user_id=user_id,
    )
    session.add(row)
    session.flush()
    return row


def client_exists(session: Session, client_id: str) -> bool:
    return session.get(SmartClientRow, client_id) is not None


def disable_client(session: Session, client_id: str, now: dt.datetime) -> bool:
    """Disable the app and revoke every token issued to it; False if there is no such app."""
    done = session.execute(
        update(SmartClientRow)
        .where(SmartClientRow.client_id == client_id, SmartClientRow.disabled_at.is_(None))
        .values(disabled_at=now)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.smart_client_id == client_id, ApiTokenRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return True


def add_code(
    session: Session,
    *,
    code_hash: str,
    client_id: str,
    user_id: str,
    redirect_uri: str,
    scopes: str,
    patient_id: str | None,
    code_challenge: str,
    expires_at: dt.datetime,
    now: dt.datetime,
) -> None:
    """Store an authorization code; codes whose time has passed are deleted on the way."""
    session.execute(delete(SmartCodeRow).where(SmartCodeRow.expires_at < now))
    session.add(
        SmartCodeRow(
            code_hash=code_hash,
            client_id=client_id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scopes=scopes,
            patient_id=patient_id,
            code_challenge=code_challenge,
            expires_at=expires_at,
        )
    )
    session.flush()


def take_code(session: Session, code_hash: str, now: dt.datetime) -> SmartCodeRow | None:
    """The code with this hash, marked used in the same statement, if it was neither used
    nor expired: two token requests with one code cannot both get it (RFC 6749, 4.1.2)."""
    taken = session.execute(
        update(SmartCodeRow)
        .where(
            SmartCodeRow.code_hash == code_hash,
            SmartCodeRow.used_at.is_(None),
            SmartCodeRow.expires_at > now,
        )
        .values(used_at=now)
        .returning(SmartCodeRow.code_hash)
    ).first()
    if taken is None:
        return None
    return session.get(SmartCodeRow, code_hash)


def code_was_used(session: Session, code_hash: str) -> bool:
    return (
        session.scalar(
            select(SmartCodeRow.used_at.is_not(None)).where(SmartCodeRow.code_hash == code_hash)
        )
        is True
    )


def revoke_tokens_of_code(session: Session, client_id: str, user_id: str, now: dt.datetime) -> None:
    """A code presented twice may have been stolen: the tokens the app got for that user are
    revoked (RFC 6749, 4.1.2: SHOULD)."""
    session.execute(
        update(ApiTokenRow)
        .where(
            ApiTokenRow.smart_client_id == client_id,
            ApiTokenRow.user_id == user_id,
            ApiTokenRow.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )


def add_smart_token(
    session: Session,
    *,
    user_id: str,
    client_id: str,
    name: str,
    token_hash: str,
    expires_at: dt.datetime,
    scopes: str,
    patient_id: str | None,
) -> ApiTokenRow:
    row = ApiTokenRow(
        user_id=user_id,
        name=name,
        token_hash=token_hash,
        expires_at=expires_at,
        smart_client_id=client_id,
        smart_scopes=scopes,
        smart_patient_id=patient_id,
    )
    session.add(row)
    session.flush()
    return row
