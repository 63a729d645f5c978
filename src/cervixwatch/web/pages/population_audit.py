"""The population audit for quality leads and auditors (issue 15, part 3).

    GET /quality/audit                 the audits (Saving Babies' Lives v3.1 element 5, the
                                       ACOG/SMFM pathway) over the network's rows, with when
                                       those rows were assessed and how to make them again
    GET /quality/audit/{name}          one audit's report (`?quarters=financial`: UK quarters)
    GET /quality/audit/{name}.pdf      the same as a PDF

The page also lists the bundled risk models, each validated on the same rows
(`web.pages.model_validation`).

The rows are those `cervixwatch population run --out DIR` wrote into the configured
`CERVIXWATCH_POPULATION_DIR`; each report counts them once per run of the rows (DuckDB
counts a million rows in seconds; the count is kept until the Parquet changes), so it always
matches the latest run. Counts only, never a woman's data: so
no clinician, patient or admin role reads it, and a quality lead reads nothing else. Each view
is in the audit log as "population-audit-read".

The report is the same self-contained document `cervixwatch population report` writes: its
styles are inline (its SVG charts carry style attributes), so this one page's policy allows
inline styles (`web.hardening.INLINE_STYLES_STATE`); scripts stay forbidden.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cervixwatch.access.principal import Role
from cervixwatch.app.audit_measures import AuditDefinition, AuditError, bundled_audit, load_audit
from cervixwatch.app.audit_report import report_html
from cervixwatch.app.population import PARQUET_NAME
from cervixwatch.app.population_audit import AuditResult, Quarters, run_audit
from cervixwatch.app.report_rendering import report_pdf
from cervixwatch.app.risk_models import RiskModel, bundled_models
from cervixwatch.knowledge import bundled_evidence
from cervixwatch.web.access import SignedIn, allow
from cervixwatch.web.hardening import INLINE_STYLES_STATE
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
T = TypeVar("T")

POPULATION_AUDIT: Final = SignedIn(
    frozenset({Role.QUALITY_LEAD, Role.AUDITOR}), audit_action="population-audit-read"
)
#: The audits offered, by the name in their path (`bundled_audit`), with the guideline
#: profile each counts the rows of (offered only when the server loads that profile).
AUDITS: Final = {"sbl": "nice", "acog": "acog"}


@dataclass(frozen=True, slots=True)
class Rows:
    """The network's rows as this server finds them."""

    configured: bool
    parquet: Path | None
    modified: dt.datetime | None = None
    size: int = 0


def population_rows(request: Request) -> Rows:
    directory: Path | None = request.app.state.settings.population_dir
    if directory is None:
        return Rows(configured=False, parquet=None)
    parquet = directory / PARQUET_NAME
    if not parquet.is_file():
        return Rows(configured=True, parquet=None)
    stat = parquet.stat()
    return Rows(True, parquet, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC), stat.st_size)


def _loaded(request: Request, name: str) -> AuditDefinition:
    """The bundled audit `name`, read and checked once per app (loading compiles every
    predicate in DuckDB: not work for each page view)."""
    cache: dict[str, AuditDefinition] = request.app.state.__dict__.setdefault(
        "population_audits", {}
    )
    if name not in cache:
        cache[name] = load_audit(bundled_audit(name), request.app.state.profiles)
    return cache[name]


def risk_models(request: Request) -> dict[str, RiskModel]:
    """The bundled models by id, read once per app."""
    cache: dict[str, RiskModel] | None = getattr(request.app.state, "risk_models", None)
    if cache is None:
        cache = {m.id: m for m in bundled_models(bundled_evidence())}
        request.app.state.risk_models = cache
    return cache


def _audit(request: Request, name: str) -> AuditDefinition:
    if AUDITS.get(name) not in request.app.state.profiles:
        raise HTTPException(404, "There is no such audit.")
    try:
        return _loaded(request, name)
    except AuditError as error:  # the bundled files are checked by the tests: not expected
        raise HTTPException(404, f"This audit cannot be counted here: {error}") from None


def _quarters(request: Request) -> Quarters:
    return "financial" if request.query_params.get("quarters") == "financial" else "calendar"


@router.get("/quality/audit")
@allow(POPULATION_AUDIT)
def audits_page(request: Request) -> Response:
    profiles = request.app.state.profiles
    audits = [
        (name, _loaded(request, name)) for name, profile in AUDITS.items() if profile in profiles
    ]
    return render(
        request,
        "population_audit.html",
        {"audits": audits, "rows": population_rows(request), "models": risk_models(request)},
    )


def rows_parquet(request: Request) -> Path:
    """The network's rows, or a 404 saying where to find how to make them."""
    parquet = population_rows(request).parquet
    if parquet is None:
        raise HTTPException(
            404,
            "There are no population rows on this server yet: the population audit page says "
            "how to make them.",
        )
    return parquet


async def once_per_run(request: Request, name: Hashable, parquet: Path, work: Callable[[], T]) -> T:
    """`work()` (in a thread) once per run of the rows: a million rows take seconds to count
    or validate, and they change only when `population run` writes them again (their size and
    modification time say so). What it raises is not kept."""
    stat = parquet.stat()
    key = (str(parquet), stat.st_mtime_ns, stat.st_size)
    cache: dict[Hashable, tuple[tuple[str, int, int], Any]] = request.app.state.__dict__.setdefault(
        "population_results", {}
    )
    found = cache.get(name)
    if found is not None and found[0] == key:
        return cast("T", found[1])
    result = await run_in_threadpool(work)
    cache[name] = (key, result)
    return result


async def pdf_response(html: str, filename: str) -> Response:
    pdf = await run_in_threadpool(report_pdf, html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _result_html(request: Request, name: str, links: list[tuple[str, str]]) -> str:
    audit = _audit(request, name)
    parquet = rows_parquet(request)
    quarters = _quarters(request)
    try:
        result: AuditResult = await once_per_run(
            request,
            ("audit", name, quarters),
            parquet,
            functools.partial(run_audit, parquet, audit, quarters=quarters),
        )
    except FileNotFoundError as error:  # rows of an older run: made again, not misread
        raise HTTPException(404, str(error)) from None
    return report_html(result, generated_at=dt.datetime.now(dt.UTC), links=links)


@router.get("/quality/audit/{name}.pdf")
@allow(POPULATION_AUDIT)
async def report_pdf_page(request: Request, name: str) -> Response:
    return await pdf_response(await _result_html(request, name, []), f"{name}-audit.pdf")


@router.get("/quality/audit/{name}")
@allow(POPULATION_AUDIT)
async def report_page(request: Request, name: str) -> Response:
    suffix = "?quarters=financial" if _quarters(request) == "financial" else ""
    links = [
        ("Population audit", "/quality/audit"),
        ("Download as PDF", f"/quality/audit/{name}.pdf{suffix}"),
    ]
    html = await _result_html(request, name, links)
    setattr(request.state, INLINE_STYLES_STATE, True)
    return Response(html, media_type="text/html; charset=utf-8")
