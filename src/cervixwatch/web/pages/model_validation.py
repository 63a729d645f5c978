"""Risk models validated on the network's rows, for quality leads and auditors (issue 15,
part 4): the report `cervixwatch validate-model` writes, for each bundled model, over the rows
of the configured `CERVIXWATCH_POPULATION_DIR` (listed on the population audit page).

    GET /quality/models/{model_id}       the validation report
    GET /quality/models/{model_id}.pdf   the same as a PDF

Each model is validated once per run of the rows (cached against the Parquet's size and
modification time). Statistics and counts only, never a woman's row; each view is in the audit
log as "population-audit-read", as the audit's reports are. The report's styles are inline
(its SVG charts carry style attributes): this page alone allows inline styles, scripts stay
forbidden.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from cervixwatch.app.model_report import report_html
from cervixwatch.app.model_validation import Validation, validate
from cervixwatch.app.report_rendering import report_pdf
from cervixwatch.app.risk_models import RiskModel
from cervixwatch.web.access import allow
from cervixwatch.web.hardening import INLINE_STYLES_STATE
from cervixwatch.web.pages.core import PageRoute
from cervixwatch.web.pages.population_audit import POPULATION_AUDIT, population_rows, risk_models

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def _validation(request: Request, model: RiskModel, parquet: Path) -> Validation:
    """The model validated on the rows, worked out once per run of the rows: a network of a
    million women takes seconds to read, and the rows change only when `population run`
    writes them again (their size and modification time say so)."""
    stat = parquet.stat()
    key = (str(parquet), stat.st_mtime_ns, stat.st_size)
    cache: dict[str, tuple[tuple[str, int, int], Validation]] = (
        request.app.state.__dict__.setdefault("model_validations", {})
    )
    found = cache.get(model.id)
    if found is not None and found[0] == key:
        return found[1]
    validation = await run_in_threadpool(validate, model, parquet)
    cache[model.id] = (key, validation)
    return validation


async def _report(request: Request, model_id: str, links: list[tuple[str, str]]) -> str:
    model = risk_models(request).get(model_id)
    if model is None:
        raise HTTPException(404, "There is no such risk model.")
    rows = population_rows(request)
    if rows.parquet is None:
        raise HTTPException(
            404,
            "There are no population rows on this server yet: the population audit page says "
            "how to make them.",
        )
    try:
        validation = await _validation(request, model, rows.parquet)
    except ValueError as error:  # rows of an older run, without the columns a model reads
        raise HTTPException(404, str(error)) from None
    return report_html(validation, generated_at=dt.datetime.now(dt.UTC), links=links)


@router.get("/quality/models/{model_id}.pdf")
@allow(POPULATION_AUDIT)
async def validation_pdf(request: Request, model_id: str) -> Response:
    html = await _report(request, model_id, [])
    pdf = await run_in_threadpool(report_pdf, html)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{model_id}-validation.pdf"'},
    )


@router.get("/quality/models/{model_id}")
@allow(POPULATION_AUDIT)
async def validation_page(request: Request, model_id: str) -> Response:
    links = [
        ("Population audit", "/quality/audit"),
        ("Download as PDF", f"/quality/models/{model_id}.pdf"),
    ]
    html = await _report(request, model_id, links)
    setattr(request.state, INLINE_STYLES_STATE, True)
    return Response(html, media_type="text/html; charset=utf-8")
