"""Where care teams' notifications of urgent symptom reports go (admins only; under /api):

    GET    /admin/notifications                              every team's contacts and setting
    GET    /admin/notifications/deliveries                   the newest deliveries and how they went
    POST   /admin/notifications/{team}/contacts              a new contact (e-mail or webhook)
    DELETE /admin/notifications/{team}/contacts/{contact_id} remove one
    PUT    /admin/notifications/{team}/escalation            the team's escalation minutes

A webhook's secret is sent once, when its contact is made, and never answered (`has_secret`
says one is stored); a request that fails its checks is answered without it. Every call is
in the audit log as "notify-admin". The use cases are `app.notifications`'s, as the CLI's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Final

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from cervixwatch.access.principal import Role
from cervixwatch.app import notifications
from cervixwatch.app.accounts import NAME_MAX
from cervixwatch.app.notifications import (
    DeliveryStatus,
    NotificationKind,
    NotifyChannel,
    NotifyReceives,
)
from cervixwatch.web.access import SignedIn, allow
from cervixwatch.web.api.errors import BODY, CONFLICT, NOT_FOUND, invalid
from cervixwatch.web.api.types import ApiModel
from cervixwatch.web.deps import SessionsDep

router = APIRouter(prefix="/admin/notifications", tags=["admin"])

ADMINS: Final = SignedIn(frozenset({Role.ADMIN}), audit_action="notify-admin")

TeamName = Annotated[str, Path(min_length=1, max_length=NAME_MAX)]


class ContactCreate(ApiModel):
    """Every field may be left out as far as the model goes: a missing field's refusal by the
    model would echo the whole body, the secret with it. The route asks for them instead."""

    channel: NotifyChannel | None = Field(default=None, description="email or webhook (required).")
    address: str | None = Field(
        default=None,
        max_length=notifications.URL_MAX,
        description="An e-mail address, or the webhook's URL (http:// or https://) (required).",
    )
    # Typed loosely so that a request refused by its model never echoes the secret back:
    # it is checked by the use case, whose refusal names the field only.
    secret: Any = Field(
        default=None,
        json_schema_extra={"type": "string"},
        description=f"A webhook's signing secret, {notifications.SECRET_MIN} to "
        f"{notifications.SECRET_MAX} characters; never answered. None for an e-mail.",
    )
    receives: NotifyReceives = Field(
        default=NotifyReceives.ALL, description="all, or escalations only."
    )


class ContactPublic(BaseModel):
    id: int
    team: str
    channel: NotifyChannel
    address: str
    receives: NotifyReceives
    has_secret: bool = Field(description="Whether a signing secret is stored (never shown).")
    created_at: dt.datetime

    @classmethod
    def of(cls, contact: notifications.ContactPublic) -> ContactPublic:
        return cls(
            id=contact.id,
            team=contact.team,
            channel=contact.channel,
            address=contact.address,
            receives=contact.receives,
            has_secret=contact.has_secret,
            created_at=contact.created_at,
        )


class TeamNotifyPublic(BaseModel):
    team_id: str
    team: str
    escalate_after_minutes: int | None = Field(
        description="Minutes a red-flag report may wait unreviewed before escalation; null: "
        "the site's setting (CERVIXWATCH_NOTIFY_ESCALATE_AFTER_MINUTES)."
    )
    contacts: list[ContactPublic]


class EscalationUpdate(ApiModel):
    escalate_after_minutes: int | None = Field(
        description="Whole minutes (1 to a week), or null for the site's setting."
    )


@router.get("", response_model=list[TeamNotifyPublic], summary="Every team's contacts")
@allow(ADMINS)
def list_team_contacts(sessions: SessionsDep) -> list[TeamNotifyPublic]:
    return [
        TeamNotifyPublic(
            team_id=t.team_id,
            team=t.team,
            escalate_after_minutes=t.escalate_after_minutes,
            contacts=[ContactPublic.of(c) for c in t.contacts],
        )
        for t in notifications.team_contacts(sessions)
    ]


class DeliveryPublic(BaseModel):
    id: int
    notification_id: int
    kind: NotificationKind
    pregnancy_id: str
    channel: NotifyChannel
    recipient: str
    status: DeliveryStatus = Field(description="pending, sending, sent, failed or cancelled.")
    attempts: int
    queued_at: dt.datetime
    sent_at: dt.datetime | None
    next_attempt_at: dt.datetime | None = Field(description="When it is tried next, if waiting.")
    last_error: str | None = Field(
        description="How the last attempt failed (the receiver's code, an error's type)."
    )


@router.get(
    "/deliveries",
    response_model=list[DeliveryPublic],
    summary="The newest deliveries and how they went",
)
@allow(ADMINS)
def list_deliveries(
    sessions: SessionsDep,
    limit: Annotated[int, Query(ge=1, le=notifications.DELIVERIES_MAX)] = 100,
) -> list[DeliveryPublic]:
    return [
        DeliveryPublic(
            id=d.id,
            notification_id=d.notification_id,
            kind=d.kind,
            pregnancy_id=d.pregnancy_id,
            channel=d.channel,
            recipient=d.recipient,
            status=d.status,
            attempts=d.attempts,
            queued_at=d.queued_at,
            sent_at=d.sent_at,
            next_attempt_at=d.next_attempt_at,
            last_error=d.last_error,
        )
        for d in notifications.recent_deliveries(sessions, limit)
    ]


@router.post(
    "/{team}/contacts",
    status_code=201,
    response_model=ContactPublic,
    responses={**NOT_FOUND, **CONFLICT, **BODY},
    summary="A new contact of a care team",
)
@allow(ADMINS)
def add_contact(team: TeamName, body: ContactCreate, sessions: SessionsDep) -> ContactPublic:
    if body.channel is None:
        raise invalid("body", "channel", "required: email or webhook")
    if body.address is None:
        raise invalid("body", "address", "required: an e-mail address or the webhook's URL")
    if body.secret is not None and not isinstance(body.secret, str):
        raise invalid("body", "secret", "a string")
    added = notifications.add_contact(
        sessions,
        team,
        body.channel,
        body.address,
        secret=body.secret,
        receives=body.receives,
    )
    return ContactPublic.of(added)


@router.delete(
    "/{team}/contacts/{contact_id}",
    status_code=204,
    responses=NOT_FOUND,
    summary="Remove a contact (what still waits for it is cancelled)",
)
@allow(ADMINS)
def remove_contact(team: TeamName, contact_id: int, sessions: SessionsDep) -> Response:
    notifications.remove_contact(sessions, team, contact_id)
    return Response(status_code=204)


@router.put(
    "/{team}/escalation",
    status_code=204,
    responses={**NOT_FOUND, **BODY},
    summary="A care team's escalation minutes",
)
@allow(ADMINS)
def set_escalation(team: TeamName, body: EscalationUpdate, sessions: SessionsDep) -> Response:
    notifications.set_escalation(sessions, team, body.escalate_after_minutes)
    return Response(status_code=204)
