"""Migrations proven on data (issue 12, part 8), on SQLite and PostgreSQL.

One database is taken up the migrations a revision at a time, and at each revision it is
given the data that revision's schema could hold, written as that revision's code wrote it
(raw SQL in that revision's columns; today's code only where the schema is today's: the audit
chain at 0007, a token at 0008). So the data of every released revision passes through every
later migration. At the head:

- every row written at every revision is still there with the same values (each revision's
  columns compared, row by row);
- today's code reads it all: each pregnancy's records (`load_records`), a woman's FHIR export
  (`$everything`) and her identifiers, the accounts (a token of 0002 signs in, with its care
  team), the back-off's counters are read, and the audit chain verifies (entries written
  before the chain existed, and those linked in their own row before 0025, included).

Then every migration's downgrade (each of 0001-0018 defines one) is run, a revision at a
time, and at each revision every row written at or before it is still there, unchanged.
A new migration without data of its own here fails the test (`BUILDERS`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, bindparam, inspect, text

from cervixwatch.access.credentials import secret_hash
from cervixwatch.app import accounts
from cervixwatch.app.exporting import everything
from cervixwatch.app.patients import get_patient
from cervixwatch.store import access_generation
from cervixwatch.store.audit import AuditEntry, _columns, record
from cervixwatch.store.audit_chain import entry_hash, seal_engine, verify_engine
from cervixwatch.store.database import make_engine, session_factory
from cervixwatch.store.failure_counters import DatabaseCounters
from cervixwatch.store.migrate import alembic_config, current_revision, downgrade, upgrade
from cervixwatch.store.records import load_records
from cervixwatch.store.types import UTCDateTime

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
TOKEN_SECRET = "migration-test-token-of-revision-0002"


def _revisions() -> list[str]:
    """Every revision, base first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _sql(connection: Connection, statement: str, **params: Any) -> None:
    """`statement` with instants bound as the models bind them (naive UTC text on SQLite);
    dates, numbers and JSON are written in the SQL itself, as literals."""
    instants = [
        bindparam(k, type_=UTCDateTime()) for k, v in params.items() if isinstance(v, dt.datetime)
    ]
    connection.execute(text(statement).bindparams(*instants), params)


# --- the data each revision could hold ---------------------------------------------------------


def _at_0001(engine: Engine) -> None:
    """A woman with a history and an active pregnancy holding every kind of record of 0001,
    one imported record's source identifier, and her stored assessment; a second woman."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at) VALUES ('p1', 'MIG0001', 'Quillfeather', 'Ottoline', "
            "'1991-04-05', :at, :at), ('p2', 'MIG0002', 'Brackenbury', 'Isadora', '1988-11-30', "
            ":at, :at)",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, ended_on, notes, "
            "created_at, updated_at) VALUES ('g1', 'p1', '2026-08-20', 1, 'active', NULL, "
            "'[\"seen in clinic\"]', :at, :at), ('g2', 'p2', '2026-07-01', 2, 'active', NULL, "
            "'[]', :at, :at)",
            at=AT,
        )
        for statement in (
            "INSERT INTO prior_pregnancies (id, patient_id, ended_year, ended_month, ended_day, "
            "outcome, gestation_days, onset, cerclage, fetuses, source, source_ref) VALUES "
            "(1, 'p1', 2023, 6, NULL, 'live-birth', 180, 'spontaneous-labour', NULL, 1, 'form', "
            "NULL)",
            "INSERT INTO cervical_excisions (id, patient_id, kind, depth_mm, performed_year, "
            "performed_month, performed_day, source, source_ref) VALUES (1, 'p1', 'lletz', 12.5, "
            "2019, NULL, NULL, 'form', NULL)",
            "INSERT INTO maternal_conditions (id, patient_id, condition, source, source_ref) "
            "VALUES (1, 'p1', 'uterine-anomaly', 'form', NULL)",
            "INSERT INTO cervical_lengths (id, pregnancy_id, measured_on, length_mm, method, "
            "operator, device, source, source_ref) VALUES (1, 'g1', '2026-02-16', 31.0, "
            "'transvaginal', 'sonographer A', NULL, 'fhir', 'Observation/cl-1')",
            "INSERT INTO cervical_exams (id, pregnancy_id, examined_on, dilation_cm, "
            "effacement_percent, membranes_exposed, source, source_ref) VALUES (1, 'g1', "
            "'2026-02-20', 0.0, 20.0, NULL, 'form', NULL)",
            "INSERT INTO fibronectin_tests (id, pregnancy_id, tested_on, ng_per_ml, positive, "
            "source, source_ref) VALUES (1, 'g1', '2026-02-21', 12.0, NULL, 'hl7v2', 'MSG0001')",
            "INSERT INTO complications (id, pregnancy_id, complication, noted_on, resolved_on, "
            "source, source_ref) VALUES (1, 'g1', 'vaginal-bleeding', '2026-01-10', "
            "'2026-01-12', 'form', NULL)",
            "INSERT INTO cerclage_placements (id, pregnancy_id, placed_on, route, indication, "
            "source, source_ref) VALUES (1, 'g1', '2026-01-28', 'transvaginal', "
            "'history-indicated', 'form', NULL)",
            "INSERT INTO medications (id, pregnancy_id, medication, started_on, stopped_on, "
            "status, source, source_ref) VALUES (1, 'g1', 'vaginal-progesterone', '2026-02-01', "
            "NULL, 'active', 'form', NULL)",
            "INSERT INTO symptom_reports (id, pregnancy_id, reported_on, reported_at, present, "
            "absent, source, source_ref) VALUES (1, 'g1', '2026-02-25', NULL, "
            "'[\"backache\"]', '[\"bleeding\"]', 'form', NULL)",
            "INSERT INTO source_identifiers (id, patient_id, system, value, table_name, row_id) "
            "VALUES (1, 'p1', 'urn:example:ehr', 'cl-1', 'cervical_lengths', '1')",
        ):
            _sql(c, statement)
        _sql(
            c,
            "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, result, "
            "ga_days, risk_tier, next_scan_due, next_scan_status, overdue, urgent, codes, "
            "latest_length_mm, latest_length_on, shortest_length_mm, shortest_length_on) VALUES "
            "('g1', '2026-03-02', '{}', :at, '{}', 158, NULL, '2026-03-09', 'due', :no, :no, "
            "'[\"serial-cervical-length\"]', 31.0, '2026-02-16', 31.0, '2026-02-16')",
            at=AT,
            no=False,
        )


def _at_0002(engine: Engine) -> None:
    """Accounts: a clinician in a care team caring for the first woman, her token and a
    sign-in; a patient's account; audit entries (before the chain)."""
    with engine.begin() as c:
        _sql(c, "INSERT INTO care_teams (id, name) VALUES ('t1', 'Migration team')")
        _sql(c, "INSERT INTO team_patients (team_id, patient_id) VALUES ('t1', 'p1')")
        _sql(
            c,
            "INSERT INTO users (id, username, display_name, role, password_hash, patient_id, "
            "oidc_subject, disabled, failed_sign_ins, locked_at, created_at, "
            "password_changed_at) VALUES ('u1', 'mig-clinician', 'Dr Migration', 'clinician', "
            "NULL, NULL, 'sub-1', :no, 0, NULL, :at, NULL), ('u2', 'mig-patient', NULL, "
            "'patient', NULL, 'p1', NULL, :no, 2, NULL, :at, NULL)",
            at=AT,
            no=False,
        )
        _sql(c, "INSERT INTO team_members (team_id, user_id) VALUES ('t1', 'u1')")
        _sql(
            c,
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, "
            "revoked_at, last_used_at) VALUES ('k1', 'u1', 'ehr', :hash, :at, :expires, NULL, "
            ":at)",
            hash=secret_hash(TOKEN_SECRET),
            at=AT,
            expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
        )
        _sql(
            c,
            "INSERT INTO sign_in_sessions (id, user_id, token_hash, csrf_token, created_at, "
            "last_seen_at, expires_at, ended_at) VALUES ('s1', 'u1', :hash, 'csrf', :at, :at, "
            ":at, :at)",
            hash=secret_hash("a-session-of-0002"),
            at=AT,
        )
        for n, (action, patient) in enumerate((("read", "'p1'"), ("sign-in", "NULL")), 1):
            _sql(
                c,
                "INSERT INTO audit_events (recorded_at, actor_id, actor_role, via, action, "
                "method, route, path, patient_id, client_address, outcome, status, request_id) "
                f"VALUES (:at, 'u1', 'clinician', 'token', '{action}', 'GET', '/api/x', "
                f"'/api/x', {patient}, '127.0.0.1', 'success', 200, 'req-0002-{n}')",
                at=AT + dt.timedelta(seconds=n),
            )


def _at_0003(engine: Engine) -> None:
    """The course of care: a declined decision, a reviewed symptom report (by whom), a
    cervical length with a comparator, a prior pregnancy counted as something."""
    with engine.begin() as c:
        for statement in (
            "INSERT INTO declined_decisions (id, pregnancy_id, code, declined_on, source, "
            "source_ref) VALUES (1, 'g1', 'history-indicated-cerclage', '2026-01-20', 'form', "
            "NULL)",
            "INSERT INTO symptom_reports (id, pregnancy_id, reported_on, reported_at, present, "
            "absent, source, source_ref, reported_by) VALUES (2, 'g1', '2026-02-27', NULL, "
            "'[\"cramping\"]', '[]', 'form', NULL, 'patient')",
            "INSERT INTO symptom_reviews (id, symptom_report_id, reviewed_on, outcome, reviewer, "
            "source, source_ref) VALUES (1, 2, '2026-02-27', 'advised-by-phone', 'Dr Migration', "
            "'form', NULL)",
            "INSERT INTO cervical_lengths (id, pregnancy_id, measured_on, length_mm, method, "
            "operator, device, source, source_ref, comparator) VALUES (2, 'g1', '2026-03-01', "
            "22.0, 'transvaginal', NULL, NULL, 'form', NULL, '<')",
            "INSERT INTO prior_pregnancies (id, patient_id, ended_year, ended_month, ended_day, "
            "outcome, gestation_days, onset, cerclage, fetuses, source, source_ref, counted_as) "
            "VALUES (2, 'p2', 2021, NULL, NULL, 'miscarriage', 120, 'unknown', NULL, 1, 'form', "
            "NULL, 'second-trimester loss')",
        ):
            _sql(c, statement)


def _at_0004(engine: Engine) -> None:
    """A woman known only by another system's identifier, with her names and gender."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at, gender, names) VALUES ('p3', NULL, 'Fennimore', 'Aurelia', "
            "'1995-01-17', :at, :at, 'female', "
            '\'[{"use": "official", "family": "Fennimore", "given": ["Aurelia"]}]\')',
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO patient_identifiers (id, patient_id, system, source, value, use, "
            "type_system, type_code, type_text) VALUES (100, 'p3', 'urn:example:nhs', NULL, "
            "'MIG-NHS-3', 'official', NULL, NULL, NULL)",
        )
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, ended_on, notes, "
            "created_at, updated_at) VALUES ('g3', 'p3', '2026-09-15', 1, 'active', NULL, "
            "'[]', :at, :at)",
            at=AT,
        )


def _at_0005(engine: Engine) -> None:
    """A woman written since versions are kept: her last write and a kept version."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at, gender, names) VALUES ('p4', 'MIG0004', 'Ashdown', "
            "'Clementine', '1993-07-07', :at, :at, NULL, '[]')",
            at=AT,
        )
        _sql(c, "INSERT INTO patient_writes (patient_id, written_at) VALUES ('p4', :at)", at=AT)
        _sql(
            c,
            "INSERT INTO resource_versions (id, resource_type, resource_id, version_id, "
            "patient_id, last_updated, deleted, content_hash, resource) VALUES (1, 'Patient', "
            "'p4', 1, 'p4', :at, :no, 'h', '{\"resourceType\": \"Patient\", \"id\": \"p4\"}')",
            at=AT,
            no=False,
        )


def _at_0006(engine: Engine) -> None:
    """An account an admin made, waiting for its one-time code; an admin action's entry
    naming it."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO users (id, username, display_name, role, password_hash, patient_id, "
            "oidc_subject, disabled, failed_sign_ins, locked_at, created_at, "
            "password_changed_at, one_time_code_hash, one_time_code_expires_at) VALUES ('u3', "
            "'mig-new', NULL, 'auditor', NULL, NULL, NULL, :no, 0, NULL, :at, NULL, :code, "
            ":at)",
            at=AT,
            no=False,
            code=secret_hash("a-one-time-code"),
        )
        _sql(
            c,
            "INSERT INTO audit_events (recorded_at, actor_id, actor_role, via, action, method, "
            "route, path, patient_id, client_address, outcome, status, request_id, "
            "target_user_id) VALUES (:at, 'u1', 'admin', 'session', 'admin-user', 'POST', "
            "'/api/admin/users', '/api/admin/users', NULL, '127.0.0.1', 'success', 201, "
            "'req-0006-1', 'u3')",
            at=AT + dt.timedelta(seconds=10),
        )


def _audit_entry(n: int, revision: str) -> AuditEntry:
    return AuditEntry(
        action="read",
        method="GET",
        route="/api/patients/{patient_id}",
        path="/api/patients/p1",
        status=200,
        request_id=f"req-{revision}-{n}",
        actor_id="u1",
        actor_role="clinician",
        via="token",
        patient_id="p1",
    )


def _at_0007(engine: Engine) -> None:
    """Entries appended to the chain as 0007-0024's code appended them: linked in their own
    row (`prev_hash`, `entry_hash`) to the head, which moves to them, in one transaction."""
    for n in (1, 2):
        columns = _columns(_audit_entry(n, "0007"))
        with engine.begin() as c:
            head = c.execute(text("SELECT last_hash, entries FROM audit_chain_head")).one()
            linked = {**columns, "outcome": str(columns["outcome"]), "prev_hash": head.last_hash}
            linked["entry_hash"] = entry_hash(linked)
            _sql(
                c,
                "INSERT INTO audit_events (recorded_at, actor_id, actor_role, via, action, "
                "method, route, path, patient_id, client_address, outcome, status, request_id, "
                "target_user_id, prev_hash, entry_hash) VALUES (:recorded_at, :actor_id, "
                ":actor_role, :via, :action, :method, :route, :path, :patient_id, "
                ":client_address, :outcome, :status, :request_id, :target_user_id, "
                ":prev_hash, :entry_hash)",
                **linked,
            )
            last = c.execute(text("SELECT max(id) FROM audit_events")).scalar_one()
            _sql(
                c,
                "UPDATE audit_chain_head SET last_event_id = :last, last_hash = :digest, "
                "entries = :entries",
                last=last,
                digest=linked["entry_hash"],
                entries=head.entries + 1,
            )


def _at_0008(engine: Engine) -> None:
    """A token revoked by today's code (the access generation moves). Made by SQL of this
    revision: today's code writes the columns of later ones (0029's SMART grant)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, "
            "revoked_at, last_used_at) VALUES ('k8', 'u1', 'short-lived', :hash, :at, :expires, "
            "NULL, NULL)",
            hash="8" * 64,
            at=AT,
            expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )
    accounts.revoke_token(session_factory(engine), "k8")


def _at_0009(engine: Engine) -> None:
    """Wrong passwords being counted (the back-off's counters)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO failure_counters (counter_key, hits, expires_at) VALUES "
            "('cervixwatch/failures/wrong-password/mig-clinician/203.0.113.9', 4, 4102444800.0)",
        )


def _at_0010(engine: Engine) -> None:
    """An index in the worklist's order: no data the schema could not hold before; the
    assessments written at earlier revisions are indexed on the way up and kept on the way
    down (checked as every row is)."""


def _at_0011(engine: Engine) -> None:
    """The clinic's settings, one row."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO clinic_settings (id, clinic_name, phone, triage_phone, letter_address,"
            " date_format, guidelines, updated_at, updated_by) VALUES (1, 'Mig Clinic',"
            " '01632 960000', NULL, '1 Test Road', 'dmy', 'nice', :at, 'u1')",
            at=AT,
        )


def _at_0012(engine: Engine) -> None:
    """Notifications: a care team's e-mail and webhook contacts and escalation setting, the
    red-flag notification of the first woman's report, its deliveries and their attempts."""
    with engine.begin() as c:
        for statement in (
            "INSERT INTO notify_contacts (id, team_id, channel, address, secret, receives, "
            "created_at) VALUES (1, 't1', 'email', 'team@hospital.test', NULL, 'all', :at), "
            "(2, 't1', 'webhook', 'https://pager.hospital.test/hook', "
            "'0123456789abcdef0123456789abcdef', 'escalations', :at)",
            "INSERT INTO notify_team_settings (team_id, escalate_after_minutes) VALUES ('t1', 30)",
            "INSERT INTO notifications (id, kind, symptom_report_id, pregnancy_id, patient_id, "
            "created_at) VALUES (1, 'red-flag-report', 1, 'g1', 'p1', :at)",
            "INSERT INTO notification_deliveries (id, notification_id, contact_id, channel, "
            "recipient, status, attempts, next_attempt_at, claimed_until, sent_at) VALUES "
            "(1, 1, 1, 'email', 'team@hospital.test', 'sent', 2, :at, NULL, :at)",
            "INSERT INTO notification_attempts (id, delivery_id, attempted_at, sent, detail) "
            "VALUES (1, 1, :at, :no, 'HTTP 500'), (2, 1, :at, :yes, NULL)",
        ):
            params: dict[str, Any] = {"at": AT} if ":at" in statement else {}
            if ":no" in statement:
                params |= {"no": False, "yes": True}
            _sql(c, statement, **params)


def _at_0013(engine: Engine) -> None:
    """Whether an assessment's pregnancy is active, kept by triggers: the assessment of 0001
    (an active pregnancy) was marked on the way up; an ended pregnancy's new assessment is
    not marked, an active one's is, and ending a pregnancy unmarks its assessment."""

    def marked(c: Connection, pregnancy_id: str) -> bool:
        found = c.execute(
            text("SELECT pregnancy_active FROM assessments WHERE pregnancy_id = :p"),
            {"p": pregnancy_id},
        ).scalar_one()
        return bool(found)

    assessment = (
        "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, result, "
        "ga_days, risk_tier, next_scan_due, next_scan_status, overdue, urgent, codes, "
        "latest_length_mm, latest_length_on, shortest_length_mm, shortest_length_on) VALUES "
        "('{id}', '2026-03-02', '{{}}', :at, '{{}}', NULL, NULL, NULL, NULL, :no, :no, '{{}}', "
        "NULL, NULL, NULL, NULL)"
    )
    with engine.begin() as c:
        assert marked(c, "g1")
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, ended_on, notes, "
            "created_at, updated_at) VALUES ('g13', 'p2', '2025-01-10', 1, 'ended', "
            "'2025-01-02', '[]', :at, :at), ('g14', 'p4', '2026-09-01', 1, 'active', NULL, "
            "'[]', :at, :at)",
            at=AT,
        )
        _sql(c, assessment.format(id="g13"), at=AT, no=False)
        _sql(c, assessment.format(id="g14"), at=AT, no=False)
        assert not marked(c, "g13")
        assert marked(c, "g14")
        _sql(c, "UPDATE pregnancies SET status = 'ended', ended_on = '2026-03-01' WHERE id = 'g14'")
        assert not marked(c, "g14")


def _at_0014(engine: Engine) -> None:
    """A correction of a record (the scan it names may be gone: entered in error)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO record_corrections (id, patient_id, record_table, record_id, change,"
            " reason, corrected_by, corrected_at, before) VALUES (1, 'p1', 'cervical_lengths',"
            " 99, 'entered-in-error', 'another woman''s scan', 'u1', :at,"
            " '{\"length_mm\": 2.5}')",
            at=AT,
        )


def _at_0015(engine: Engine) -> None:
    """CDS Hooks: a JWT id remembered, a card answered to an EHR and its feedback."""
    with engine.begin() as c:
        _sql(c, f"INSERT INTO cds_jwt_ids (key, expires_at) VALUES ('{'a' * 64}', :at)", at=AT)
        _sql(
            c,
            "INSERT INTO cds_cards (uuid, service_id, hook_instance, issuer, ehr_patient, "
            "guideline, code, rules, indicator, issued_at) VALUES "
            "('00000000-0000-4000-8000-000000000015', 'cervixwatch-patient-view', 'h1', "
            "'https://ehr.test', '1288992', 'acog', 'vaginal-progesterone', 'SMFM23-03', "
            "'info', :at)",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO cds_feedback (id, card_uuid, service_id, issuer, outcome, "
            "accepted_suggestions, override_system, override_code, override_display, "
            "user_comment, outcome_at, received_at) VALUES (1, "
            "'00000000-0000-4000-8000-000000000015', 'cervixwatch-patient-view', "
            "'https://ehr.test', 'overridden', '[]', 'https://cw.test', 'patient-declined', "
            "'The woman declined', 'later', :at, :at)",
            at=AT,
        )


def _at_0016(engine: Engine) -> None:
    """Device reports (issue 14): one waiting for review, one stored for the first woman."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO device_messages (id, channel, message_id, received_at, sender, status, "
            "reason, patient_value, identifier_system, summary, operator, device, payload, "
            "patient_id, resolved_by, resolved_at) VALUES "
            "(1, 'dicom-sr', '1.2.826.0.1.1', :at, 'dicom:SONO1', 'review', 'no woman', "
            "'SYN-1', 'urn:oid:1.2.3', 'cervical length 23 mm', NULL, 'Synthetic Sono', "
            "NULL, NULL, NULL, NULL), "
            "(2, 'hl7v2', 'VIEWPOINT|M1', :at, 'hl7:VIEWPOINT', 'stored', NULL, 'SYN-2', "
            "'urn:oid:1.2.3', 'cervical length 19 mm', NULL, 'VIEWPOINT', NULL, 'p1', NULL, "
            "NULL)",
            at=AT,
        )


def _at_0017(engine: Engine) -> None:
    """A review with its note and instant, of a report taken by telephone."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO symptom_reports (id, pregnancy_id, reported_on, reported_at, present, "
            "absent, source, source_ref, reported_by, taken_by) VALUES (17, 'g2', '2026-03-01', "
            ":at, '[\"bleeding\"]', '[]', 'form', NULL, 'the woman', 'Dr Phone')",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO symptom_reviews (id, symptom_report_id, reviewed_on, outcome, reviewer, "
            "source, source_ref, note, reviewed_at) VALUES (17, 17, '2026-03-01', 'admitted', "
            "'Dr Migration', 'form', NULL, 'seen on the labour ward', :at)",
            at=AT,
        )


def _at_0018(engine: Engine) -> None:
    """The worklist's flags on an assessment (an ended twin pregnancy with a cerclage whose
    removal is overdue, urgent on a red-flag report); the assessments written before keep a
    NULL rank (stale: reassessed by the next worklist request)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, ended_on, notes, "
            "created_at, updated_at) VALUES ('g18', 'p2', '2024-05-01', 2, 'ended', "
            "'2024-04-20', '[]', :at, :at)",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, result, "
            "ga_days, risk_tier, next_scan_due, next_scan_status, overdue, urgent, codes, "
            "latest_length_mm, latest_length_on, shortest_length_mm, shortest_length_on, "
            "fetuses, cerclage_in_situ, cerclage_removal, on_progesterone, urgent_kind, "
            "urgent_reason, urgent_since, worklist_rank, actions) VALUES ('g18', '2024-04-10', "
            "'{}', :at, '{}', 262, 'high', NULL, NULL, :yes, :yes, '{}', NULL, NULL, NULL, "
            "NULL, 2, :yes, 'overdue', :no, 'red-flag', 'bleeding: reported today', "
            '\'2024-04-10\', 0, \'{"nice": [{"code": "remove-cerclage", '
            '"state": "overdue"}]}\')',
            at=AT,
            yes=True,
            no=False,
        )
        ranks = c.execute(
            text("SELECT worklist_rank FROM assessments WHERE pregnancy_id <> 'g18'")
        ).scalars()
        assert set(ranks) == {None}


def _at_0019(engine: Engine) -> None:
    """An index on when each assessment was stored: no data the schema could not hold
    before; the assessments written at earlier revisions are indexed on the way up and kept
    on the way down (checked as every row is)."""


def _at_0020(engine: Engine) -> None:
    """Scans booked: one for the first woman's pregnancy in its plan's window, one cancelled."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO appointments (id, pregnancy_id, scheduled_on, scheduled_at, status, "
            "window_from, window_to, booked_by, booked_at) VALUES "
            "(1, 'g1', '2026-03-09', '09:30:00', 'booked', '2026-03-02', '2026-03-16', NULL, :at), "
            "(2, 'g1', '2026-03-10', '14:00:00', 'cancelled', NULL, NULL, NULL, :at)",
            at=AT,
        )


def _at_0021(engine: Engine) -> None:
    """A device message goes with her: deleting a woman now deletes the message stored for
    her, and leaves one waiting for review (a woman made and deleted here, so the data of
    earlier revisions stays as it was)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at, gender, names) VALUES ('p21', 'MIG0021', 'Gone', "
            "'Only', '1990-01-01', :at, :at, NULL, '[]')",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO device_messages (id, channel, message_id, received_at, sender, status, "
            "reason, patient_value, identifier_system, summary, operator, device, payload, "
            "patient_id, resolved_by, resolved_at) VALUES (21, 'hl7v2', 'VIEWPOINT|M21', :at, "
            "'hl7:VIEWPOINT', 'stored', NULL, 'SYN-21', 'urn:oid:1.2.3', 'cervical length 30 "
            "mm', NULL, 'VIEWPOINT', NULL, 'p21', NULL, NULL)",
            at=AT,
        )
        c.execute(text("DELETE FROM patients WHERE id = 'p21'"))
        left = c.execute(text("SELECT id FROM device_messages ORDER BY id")).scalars().all()
    assert left == [1, 2]


def _at_0022(engine: Engine) -> None:
    """A pregnancy's EDD amended with a reason: its correction names it by its text id."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO record_corrections (id, patient_id, record_table, record_id, record_key,"
            " change, reason, corrected_by, corrected_at, before) VALUES (22, 'p2', "
            "'pregnancies', NULL, 'g2', 'amended', 'redated by the 12-week scan', NULL, :at, "
            '\'{"edd": "2026-07-08", "fetuses": 2}\')',
            at=AT,
        )


def _at_0023(engine: Engine) -> None:
    """The assessments trigger asks for the pregnancy by its key alone: an assessment stored
    for an active pregnancy is still marked active, one for an ended pregnancy is not."""
    with engine.begin() as c:
        for pregnancy_id, status in (("g23a", "active"), ("g23e", "ended")):
            _sql(
                c,
                "INSERT INTO patients (id, hospital_number, family_name, given_name, "
                "birth_date, created_at, updated_at, gender, names) VALUES (:p, :h, 'Trigger', "
                "'Key', '1990-01-01', :at, :at, NULL, '[]')",
                p=f"p{pregnancy_id}",
                h=f"MIG{pregnancy_id}",
                at=AT,
            )
            _sql(
                c,
                "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, notes, created_at, "
                "updated_at) VALUES (:g, :p, '2027-03-01', 1, :status, '[]', :at, :at)",
                g=pregnancy_id,
                p=f"p{pregnancy_id}",
                status=status,
                at=AT,
            )
            _sql(
                c,
                "INSERT INTO assessments (pregnancy_id, as_of, knowledge, computed_at, result, "
                "overdue, urgent, codes) VALUES (:g, '2026-12-06', '{}', :at, '{}', false, "
                "false, '[]')",
                g=pregnancy_id,
                at=AT,
            )
        marked: dict[str, Any] = dict(
            c.execute(
                text(
                    "SELECT pregnancy_id, pregnancy_active FROM assessments WHERE "
                    "pregnancy_id IN ('g23a', 'g23e')"
                )
            ).all()
        )
    assert {k: bool(v) for k, v in marked.items()} == {"g23a": True, "g23e": False}


#: The data of each revision; a new migration must add its own.
def _at_0024(engine: Engine) -> None:
    """On SQLite a record's id is never given again: removing the scan with the largest id
    and storing another gives the new one a larger id. (PostgreSQL's sequences never did;
    the rows written here with their ids have left them behind.)"""
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at, gender, names) VALUES ('p24', 'MIG0024', 'Sequence', "
            "'Never', '1990-01-01', :at, :at, NULL, '[]')",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, status, notes, created_at, "
            "updated_at) VALUES ('g24', 'p24', '2027-03-01', 1, 'active', '[]', :at, :at)",
            at=AT,
        )
        scan = (
            "INSERT INTO cervical_lengths (pregnancy_id, measured_on, length_mm, method, "
            "source) VALUES ('g24', '2026-11-30', :mm, 'transvaginal', 'form')"
        )
        largest = "SELECT max(id) FROM cervical_lengths"
        _sql(c, scan, mm=30)
        removed = c.execute(text(largest)).scalar_one()
        _sql(c, "DELETE FROM cervical_lengths WHERE id = :id", id=removed)
        _sql(c, scan, mm=25)
        assert c.execute(text(largest)).scalar_one() > removed


def _at_0025(engine: Engine) -> None:
    """Entries appended by today's code: sealed onto the chain after 0007's (on PostgreSQL
    by the sealer; one more left waiting, as a stopped server can leave it)."""
    for n in (1, 2):
        record(engine, _audit_entry(n, "0025"))
    seal_engine(engine)
    record(engine, _audit_entry(3, "0025"))


def _at_0026(engine: Engine) -> None:
    """A twin pregnancy with its chorionicity."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO patients (id, hospital_number, family_name, given_name, birth_date, "
            "created_at, updated_at, gender, names) VALUES ('p26', 'MIG0026', 'Gemini', "
            "'Dora', '1991-02-03', :at, :at, NULL, '[]')",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO pregnancies (id, patient_id, edd, fetuses, chorionicity, status, notes, "
            "created_at, updated_at) VALUES ('g26', 'p26', '2027-03-01', 2, "
            "'dichorionic-diamniotic', 'active', '[]', :at, :at)",
            at=AT,
        )


def _at_0027(engine: Engine) -> None:
    """The twin pregnancy of 0026 dated by ultrasound."""
    with engine.begin() as c:
        _sql(c, "UPDATE pregnancies SET dating_method = 'ultrasound' WHERE id = 'g26'")


def _at_0028(engine: Engine) -> None:
    """The freshness index reordered (led by the day): no data the schema could not hold
    before; the assessments of earlier revisions are indexed on the way up and kept on the
    way down (checked as every row is)."""


SMART_SECRET = "migration-smart-token-secret-0029"


def _at_0029(engine: Engine) -> None:
    """A SMART app, a code it was given, and the token it got for the woman of 0001."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO smart_clients (client_id, name, kind, redirect_uris, scopes, jwks, "
            "user_id, created_at, disabled_at) VALUES ('mig-app', 'Migration viewer', 'public', "
            "'[\"https://app.example/cb\"]', 'launch/patient patient/*.rs', NULL, NULL, :at, "
            "NULL)",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO smart_codes (code_hash, client_id, user_id, redirect_uri, scopes, "
            "patient_id, code_challenge, expires_at, used_at) VALUES (:hash, 'mig-app', 'u1', "
            "'https://app.example/cb', 'patient/*.rs', 'p1', :challenge, :at, :at)",
            hash="c" * 64,
            challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            at=AT,
        )
        _sql(
            c,
            "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at, expires_at, "
            "revoked_at, last_used_at, smart_client_id, smart_scopes, smart_patient_id) VALUES "
            "('k29', 'u1', 'SMART: mig-app', :hash, :at, :expires, NULL, NULL, 'mig-app', "
            "'launch/patient patient/*.rs', 'p1')",
            hash=secret_hash(SMART_SECRET),
            at=AT,
            expires=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )


def _at_0030(engine: Engine) -> None:
    """A launch from an EHR under way (its callback not yet come)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO smart_launches (state_hash, iss, user_id, code_verifier, redirect_uri, "
            "token_endpoint, expires_at, used_at) VALUES (:hash, 'https://ehr.example/fhir', "
            "'u1', :verifier, 'https://cw.example/smart/callback', 'https://ehr.example/token', "
            ":at, NULL)",
            hash="d" * 64,
            verifier="v" * 64,
            at=AT,
        )


def _at_0031(engine: Engine) -> None:
    """An import of a Bulk Data export noted part way."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO bulk_imports (source, done_through, women, updated_at) VALUES "
            "('registry-a', 'demo-000100', 100, :at)",
            at=AT,
        )


def _at_0032(engine: Engine) -> None:
    """A quality lead's account (the new role)."""
    with engine.begin() as c:
        _sql(
            c,
            "INSERT INTO users (id, username, display_name, role, password_hash, patient_id, "
            "oidc_subject, disabled, failed_sign_ins, created_at) VALUES ('u-quality', "
            "'quality', 'Quality lead', 'quality-lead', NULL, NULL, NULL, :no, 0, :at)",
            no=False,
            at=AT,
        )


BUILDERS: dict[str, Callable[[Engine], None]] = {
    "0001": _at_0001,
    "0002": _at_0002,
    "0003": _at_0003,
    "0004": _at_0004,
    "0005": _at_0005,
    "0006": _at_0006,
    "0007": _at_0007,
    "0008": _at_0008,
    "0009": _at_0009,
    "0010": _at_0010,
    "0011": _at_0011,
    "0012": _at_0012,
    "0013": _at_0013,
    "0014": _at_0014,
    "0015": _at_0015,
    "0016": _at_0016,
    "0017": _at_0017,
    "0018": _at_0018,
    "0019": _at_0019,
    "0020": _at_0020,
    "0021": _at_0021,
    "0022": _at_0022,
    "0023": _at_0023,
    "0024": _at_0024,
    "0025": _at_0025,
    "0026": _at_0026,
    "0027": _at_0027,
    "0028": _at_0028,
    "0029": _at_0029,
    "0030": _at_0030,
    "0031": _at_0031,
    "0032": _at_0032,
}

Rows = dict[str, tuple[list[str], set[str]]]

#: Columns today's code writes when it reads (signing in with a token notes when it was used),
#: or moves as later data is written: not compared.
WRITTEN_BY_READING = frozenset(
    {
        ("api_tokens", "last_used_at"),
        # The end of the audit chain moves as later revisions' entries are sealed onto it
        # (0025); the chain's verification at the head shows that it still ends right.
        ("audit_chain_head", "last_event_id"),
        ("audit_chain_head", "last_hash"),
        ("audit_chain_head", "entries"),
    }
)


def _rows(engine: Engine, only: Rows | None = None) -> Rows:
    """Every table's rows (each as canonical JSON of its values), by table; with `only`, the
    tables and columns of `only`."""
    tables = inspect(engine).get_table_names()
    found: Rows = {}
    with engine.connect() as c:
        for table in tables:
            if table == "alembic_version" or (only is not None and table not in only):
                continue
            columns = (
                only[table][0]
                if only is not None
                else [
                    col["name"]
                    for col in inspect(c).get_columns(table)
                    if (table, col["name"]) not in WRITTEN_BY_READING
                ]
            )
            listed = ", ".join(f'"{col}"' for col in columns)
            rows = c.execute(text(f'SELECT {listed} FROM "{table}"')).all()
            found[table] = (columns, {json.dumps(list(r), default=str) for r in rows})
    return found


def _still_there(engine: Engine, written: Rows, when: str) -> None:
    now = _rows(engine, written)
    for table, (_, rows) in written.items():
        assert table in now, f"{when}: table {table} is gone"
        missing = rows - now[table][1]
        assert not missing, f"{when}: rows of {table} lost or changed: {sorted(missing)}"


def _read_by_todays_code(engine: Engine) -> None:
    sessions = session_factory(engine)
    with sessions() as session:
        first = load_records(session, "g1")
        assert sorted((m.length_mm, m.comparator) for m in first.cervical_lengths) == [
            (22.0, "<"),
            (31.0, None),
        ]
        assert [p.gestation_days for p in first.prior_pregnancies] == [180]
        assert [str(p.indication) for p in first.cerclage_placements] == ["history-indicated"]
        assert [str(m.medication) for m in first.medications] == ["vaginal-progesterone"]
        assert len(first.symptom_reports) == 2
        assert [str(d.code) for d in first.declined] == ["history-indicated-cerclage"]
        assert [str(p.counted_as) for p in load_records(session, "g2").prior_pregnancies] == [
            "second-trimester loss"
        ]
        assert load_records(session, "g3").cervical_lengths == ()
        twins = load_records(session, "g26")
        assert (twins.fetuses, str(twins.chorionicity)) == (2, "dichorionic-diamniotic")
        assert str(twins.dating_method) == "ultrasound"
        assert access_generation.current(session) == 1
    # Her FHIR export: her Patient (the hospital number of 0001 now an identifier of the
    # installation's system, 0004) and her records as resources.
    bundle = everything(sessions, "p1")
    types = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert types.count("Patient") == 1
    assert types.count("Observation") >= 3  # two lengths, a fibronectin test, ...
    [patient] = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert "MIG0001" in {i["value"] for i in patient["identifier"]}
    assert get_patient(sessions, "p3").family_name == "Fennimore"
    # The token of 0002 signs in with her care team; the chain verifies, entries written
    # before it existed (0002, 0006) included.
    principal = accounts.token_principal(sessions, TOKEN_SECRET)
    assert principal is not None
    assert principal.team_ids == frozenset({"t1"})
    assert principal.smart is None
    # The SMART token of 0029: the same account, narrowed to its scopes and launch patient.
    smart = accounts.token_principal(sessions, SMART_SECRET)
    assert smart is not None
    assert smart.smart is not None
    assert (smart.smart.client_id, smart.smart.patient_id) == ("mig-app", "p1")
    assert {str(s) for s in smart.smart.scopes.clinical} == {"patient/*.rs"}
    counters = DatabaseCounters(engine)
    assert counters.get("cervixwatch/failures/wrong-password/mig-clinician/203.0.113.9") == 4
    verified = verify_engine(engine)
    assert verified.ok, verified.broken
    # 0002 and 0006's entries, linked by 0007; 0007's; 0025's (one of them waiting to be
    # sealed on PostgreSQL).
    postgresql = engine.dialect.name == "postgresql"
    assert (verified.entries, verified.waiting) == ((7, 1) if postgresql else (8, 0))


def test_data_of_every_revision_reaches_the_head_and_comes_back_down(empty_url: str) -> None:
    revisions = _revisions()
    assert list(BUILDERS) == revisions, "each migration needs its data here"
    engine = make_engine(empty_url)
    written: dict[str, Rows] = {}
    try:
        for revision in revisions:
            upgrade(empty_url, revision)
            BUILDERS[revision](engine)
            written[revision] = _rows(engine)
        assert current_revision(empty_url) == revisions[-1]
        for revision, rows in written.items():
            _still_there(engine, rows, f"at the head, data of {revision}")
        _read_by_todays_code(engine)

        for revision in reversed(revisions[:-1]):
            engine.dispose()  # no pooled connection holds a table a downgrade drops
            downgrade(empty_url, revision)
            assert current_revision(empty_url) == revision
            _still_there(engine, written[revision], f"downgraded to {revision}")
    finally:
        engine.dispose()
