"""What a notification says: an e-mail, or a webhook's JSON body and its signature.

Neither the e-mail's subject nor the webhook's body names the woman or gives a clinical
value (a subject is shown on lock screens and in mail lists; a pager or SMS gateway keeps what
it is sent). The e-mail's body names her by hospital number and links to her pregnancy page,
where a signed-in clinician reads the report; the webhook's body gives the same link and her
hospital number, for a gateway that pages the team.

A webhook request is signed as Stripe and GitHub sign theirs: `X-CervixWatch-Timestamp` is
the time of sending (Unix seconds) and `X-CervixWatch-Signature` is `sha256=` and the hex
HMAC-SHA256, keyed with the contact's secret, of the timestamp, a full stop and the body's
bytes. A receiver recomputes it over the body as received, compares in constant time, and
refuses a timestamp older than a few minutes (a replay); docs/deployment.md shows how.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from email.message import EmailMessage
from typing import Any, Final

import orjson

from cervixwatch.store.models import NotificationKind
from cervixwatch.store.notifications import DeliveryContext

TIMESTAMP_HEADER: Final = "X-CervixWatch-Timestamp"
SIGNATURE_HEADER: Final = "X-CervixWatch-Signature"

SUBJECTS: Final = {
    NotificationKind.RED_FLAG_REPORT: "CervixWatch: an urgent symptom report to review",
    NotificationKind.ESCALATION: (
        "CervixWatch ESCALATION: an urgent symptom report not yet reviewed"
    ),
}


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-CervixWatch-Signature` of `body` sent at `timestamp` (Unix seconds)."""
    signed = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def pregnancy_url(base_url: str, pregnancy_id: str) -> str:
    return f"{base_url.rstrip('/')}/pregnancies/{pregnancy_id}"


def _when(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _minutes(n: int) -> str:
    return "1 minute" if n == 1 else f"{n} minutes"


def _minutes_waiting(context: DeliveryContext, now: dt.datetime) -> int:
    return max(0, int((now - context.reached_at).total_seconds() // 60))


def email_message(
    context: DeliveryContext, recipient: str, sender: str, base_url: str, now: dt.datetime
) -> EmailMessage:
    """The e-mail of a notification to one recipient."""
    message = EmailMessage()
    message["Subject"] = SUBJECTS[context.kind]
    message["From"] = sender
    message["To"] = recipient
    message["X-CervixWatch-Notification"] = str(context.notification_id)
    number = context.hospital_number or "(no hospital number recorded)"
    if context.kind is NotificationKind.ESCALATION:
        opening = (
            "ESCALATION. A woman under your care team's care reported a red-flag symptom, and "
            f"no clinician has recorded a review of it {_minutes(_minutes_waiting(context, now))} "
            "after it reached CervixWatch."
        )
    else:
        opening = "A woman under your care team's care has reported a red-flag symptom."
    # One paragraph a line: the mail reader wraps them to its width.
    message.set_content(
        f"{opening}\n"
        "Her report stays urgent on the worklist until a clinician records a review of it.\n"
        "\n"
        f"Hospital number: {number}\n"
        f"Reached CervixWatch: {_when(context.reached_at)}\n"
        f"Her pregnancy: {pregnancy_url(base_url, context.pregnancy_id)}\n"
        "\n"
        "Sign in to read the report and record your review. "
        "This message holds no clinical details.\n"
        "\n"
        f"CervixWatch notification {context.notification_id}\n"
    )
    return message


def webhook_payload(context: DeliveryContext, base_url: str, now: dt.datetime) -> dict[str, Any]:
    """The webhook's JSON body: ids, her hospital number and the link; no clinical value."""
    return {
        "event": context.kind.value,
        "notification_id": context.notification_id,
        "symptom_report_id": context.symptom_report_id,
        "pregnancy_id": context.pregnancy_id,
        "hospital_number": context.hospital_number,
        "url": pregnancy_url(base_url, context.pregnancy_id),
        "reached_at": context.reached_at.astimezone(dt.UTC).isoformat(),
        "minutes_waiting": _minutes_waiting(context, now),
        "text": SUBJECTS[context.kind].removeprefix("CervixWatch").lstrip(": "),
    }


def webhook_request(
    context: DeliveryContext, secret: str, base_url: str, now: dt.datetime
) -> tuple[bytes, dict[str, str]]:
    """The webhook's body and headers, signed at `now`."""
    body = orjson.dumps(webhook_payload(context, base_url, now))
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        "User-Agent": "CervixWatch-notify",
    }
    return body, headers
