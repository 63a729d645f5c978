"""What a notification says, without a database: the signature a receiver checks, and what the
e-mail and the webhook body hold (no name, no symptom; the hospital number and the link)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import orjson

from cervixwatch.app.notify_messages import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    email_message,
    signature,
    webhook_request,
)
from cervixwatch.store.models import NotificationKind
from cervixwatch.store.notifications import DeliveryContext

QUEUED = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)


def _context(kind: NotificationKind = NotificationKind.RED_FLAG_REPORT) -> DeliveryContext:
    return DeliveryContext(
        notification_id=7,
        kind=kind,
        symptom_report_id=11,
        pregnancy_id="g-1",
        patient_id="p-1",
        hospital_number="MRN-0042",
        reached_at=QUEUED,
        report_reviewed=False,
        secret="s" * 40,
    )


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body() -> None:
    body = b'{"event":"red-flag-report"}'
    expected = hmac.new(b"k" * 32, b"1772442900." + body, hashlib.sha256).hexdigest()
    assert signature("k" * 32, 1772442900, body) == f"sha256={expected}"
    assert signature("k" * 32, 1772442901, body) != signature("k" * 32, 1772442900, body)


def test_the_webhook_request_is_signed_over_the_body_it_carries() -> None:
    now = QUEUED + dt.timedelta(minutes=42)
    body, headers = webhook_request(_context(), "s" * 40, "https://cw.test/", now)
    assert headers[TIMESTAMP_HEADER] == str(int(now.timestamp()))
    assert headers[SIGNATURE_HEADER] == signature("s" * 40, int(now.timestamp()), body)
    payload = orjson.loads(body)
    assert payload["url"] == "https://cw.test/pregnancies/g-1"
    assert payload["hospital_number"] == "MRN-0042"
    assert payload["minutes_waiting"] == 42
    assert payload["event"] == "red-flag-report"


def test_the_email_subject_names_no_one_and_the_body_links_to_her_page() -> None:
    now = QUEUED + dt.timedelta(minutes=95)
    for kind in NotificationKind:
        message = email_message(_context(kind), "team@h.test", "cw@h.test", "https://cw.test", now)
        assert "MRN-0042" not in str(message["Subject"])
        text = message.get_content()
        assert "Hospital number: MRN-0042" in text
        assert "https://cw.test/pregnancies/g-1" in text
        assert "2026-03-02 09:15 UTC" in text
    escalation = email_message(
        _context(NotificationKind.ESCALATION), "t@h.test", "cw@h.test", "https://cw.test", now
    )
    assert "ESCALATION" in str(escalation["Subject"])
    assert "95 minutes" in escalation.get_content()
