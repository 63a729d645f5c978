"""The population audit's pages (issue 15, part 3): a quality lead opens the audits over the
network's rows (`CERVIXWATCH_POPULATION_DIR`), reads a report and downloads its PDF; the
report page alone may style itself inline; every view is in the audit log; without rows the
page says how to make them. Who may open them at all: tests/web/test_access_matrix.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cervixwatch.clinical.gestation import ga
from cervixwatch.store import session_factory
from cervixwatch.store.models import AuditEventRow, Role
from cervixwatch.web.app import create_app
from tests.population.audit_rows import parquet_of, row
from tests.store.tables import delete_everything
from tests.web.accounts import bearer, make_user, test_settings
from tests.web.conftest import TODAY


def _network(directory: Path) -> None:
    """Two units; Unit A scanned its high-risk women as SBL asks, Unit B half of them."""
    rows = [
        row(1, unit="Unit A", ga_days=200, scan_ga_days=[112, 126, 140, 154, 168]),
        row(2, unit="Unit A", ga_days=200, scan_ga_days=[112, 140, 168]),
        row(3, unit="Unit B", ga_days=200, scan_ga_days=[112, 168]),
        row(4, unit="Unit B", ga_days=200, scan_ga_days=[112, 126, 140, 154]),
    ]
    parquet_of(directory, rows)


@pytest.fixture
def quality_lead(engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    delete_everything(engine)
    _network(tmp_path)
    settings = test_settings(engine, population_dir=tmp_path)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.QUALITY_LEAD)
        client.headers.update(bearer(token))
        yield client
    delete_everything(engine)


def test_the_audits_are_listed_with_when_the_rows_were_assessed(quality_lead: TestClient) -> None:
    page = quality_lead.get("/quality/audit")
    assert page.status_code == 200
    assert "Saving Babies&#39; Lives v3.1, element 5" in page.text
    assert "ACOG/SMFM" in page.text
    assert "Rows last assessed" in page.text
    assert 'href="/quality/audit/sbl.pdf"' in page.text
    # An app page like any other: its styles from the app's own files.
    assert "style-src 'self';" in page.headers["content-security-policy"]


def test_a_report_counts_the_network_by_unit(quality_lead: TestClient) -> None:
    page = quality_lead.get("/quality/audit/sbl")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert "SBL5-HR-SERIAL" in text
    assert "High-risk women scanned every 2-4 weeks from 16+0 to 24+0" in text
    # 3 of the 4 women had no 4-week stretch without a scan: Unit B's second did.
    assert "3/4" in text
    assert "Unit A" in text
    assert "Unit B" in text
    assert "SBL5-5B" in text  # not measurable, and said so
    assert 'href="/quality/audit/sbl.pdf"' in text
    assert "<script" not in text
    policy = page.headers["content-security-policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy
    # No patient id in a page of counts.
    assert "w001" not in text


def test_financial_quarters_on_request(quality_lead: TestClient) -> None:
    text = quality_lead.get("/quality/audit/sbl?quarters=financial").text
    assert "2026/27 Q4" in text
    assert 'href="/quality/audit/sbl.pdf?quarters=financial"' in text
    assert "2027 Q1" not in quality_lead.get("/quality/audit/acog?quarters=financial").text


def test_the_pdf_of_a_report(quality_lead: TestClient) -> None:
    answer = quality_lead.get("/quality/audit/acog.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_no_such_audit(quality_lead: TestClient) -> None:
    assert quality_lead.get("/quality/audit/nice").status_code == 404


def test_each_view_is_in_the_audit_log(quality_lead: TestClient, engine: Engine) -> None:
    quality_lead.get("/quality/audit")
    quality_lead.get("/quality/audit/sbl")
    with session_factory(engine)() as session:
        actions = session.scalars(
            select(AuditEventRow.path).where(AuditEventRow.action == "population-audit-read")
        ).all()
    assert "/quality/audit" in actions
    # A report's name is recorded as its route's ("{name}"), as every name in a path is.
    assert "/quality/audit/{name}" in actions


def test_without_rows_the_page_says_how_to_make_them(engine: Engine) -> None:
    delete_everything(engine)
    with TestClient(create_app(test_settings(engine), today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.QUALITY_LEAD)
        client.headers.update(bearer(token))
        page = client.get("/quality/audit")
        assert page.status_code == 200
        assert "CERVIXWATCH_POPULATION_DIR" in page.text
        assert "cervixwatch population run" in page.text
        assert client.get("/quality/audit/sbl").status_code == 404
    delete_everything(engine)


def test_the_risk_models_are_listed_and_each_validated_on_the_rows(
    quality_lead: TestClient,
) -> None:
    """The bundled models on the audit page, each with its validation over the same rows; the
    four women here are singletons under way with no previous birth: every one is left out,
    counted under her reason, and the report says there is nothing to validate."""
    page = quality_lead.get("/quality/audit")
    assert 'href="/quality/models/kazemier-2014-recurrence"' in page.text
    assert 'href="/quality/models/conde-agudelo-2010-twins-32.pdf"' in page.text
    report = quality_lead.get("/quality/models/kazemier-2014-recurrence")
    assert report.status_code == 200
    assert "Validation of a risk model" in report.text
    assert "Kazemier BM et al." in report.text
    assert "Nothing to validate: no woman could be assessed by this model." in report.text
    assert "no previous birth" in report.text
    assert 'href="/quality/models/kazemier-2014-recurrence.pdf"' in report.text
    assert "w001" not in report.text
    assert "style-src 'self' 'unsafe-inline'" in report.headers["content-security-policy"]
    pdf = quality_lead.get("/quality/models/conde-agudelo-2010-twins-32.pdf")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert quality_lead.get("/quality/models/no-such-model").status_code == 404


def test_rows_of_an_older_run_are_not_misread(engine: Engine, tmp_path: Path) -> None:
    """A Parquet without the columns this version counts (an older run) is refused saying so,
    on the audit and the models alike, rather than read as if those columns were empty."""
    delete_everything(engine)
    old = tmp_path / "assessments.parquet"
    duckdb.sql(f"COPY (SELECT 'w1' AS patient_id, 'nice' AS profile) TO '{old}' (FORMAT parquet)")
    settings = test_settings(engine, population_dir=tmp_path)
    with TestClient(create_app(settings, today=lambda: TODAY)) as client:
        _, token = make_user(client, Role.QUALITY_LEAD)
        client.headers.update(bearer(token))
        for path in ("/quality/audit/sbl", "/quality/models/kazemier-2014-recurrence"):
            answer = client.get(path)
            assert answer.status_code == 404
            assert "made by an older CervixWatch" in answer.text
            assert "run `cervixwatch population run` again" in answer.text
            assert str(tmp_path) not in answer.text
    delete_everything(engine)


def test_a_validation_is_worked_out_again_when_the_rows_are_made_again(
    quality_lead: TestClient, tmp_path: Path
) -> None:
    """Validated once per run of the rows: the same rows give the same report; rows written
    again (another run) are validated again, not served from before."""
    path = "/quality/models/kazemier-2014-recurrence"
    assert "Nothing to validate" in quality_lead.get(path).text
    births = [
        row(
            n,
            previous_births=1,
            previous_birth_ga_days=ga("30+0"),
            previous_birth_onset="pprom",
            previous_birth_fetuses=1,
            ended_on="2026-05-01",
            ended_ga_days=ga("33+0" if n % 3 == 0 else "39+0"),
            outcome="live-birth",
            sptb=n % 3 == 0,
        )
        for n in range(1, 13)
    ]
    parquet_of(tmp_path, births)
    again = quality_lead.get(path).text
    assert "Nothing to validate" not in again
    assert "12 women, 4 with the outcome" in again
