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
import functools

from fastapi import APIRouter, HTTPException, Request, Response

from cervixwatch.app.model_report import report_html
from cervixwatch.app.model_validation import Validation, validate
from cervixwatch.web.access import allow
from cervixwatch.web.hardening import INLINE_STYLES_STATE
from cervixwatch.web.pages.core import PageRoute
from cervixwatch.web.pages.population_audit import (
    POPULATION_AUDIT,
    once_per_run,
    pdf_response,
    risk_models,
    rows_parquet,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def _report(request: Request, model_id: str, links: list[tuple[str, str]]) -> str:
    model = risk_models(request).get(model_id)
    if model is None:
        raise HTTPException(404, "There is no such risk model.")
    parquet = rows_parquet(request)
    try:
        validation: Validation = await once_per_run(
            request, ("model", model.id), parquet, functools.partial(validate, model, parquet)
        )
    except ValueError as error:  # rows of an older run, without the columns a model reads
        raise HTTPException(404, str(error)) from None
    return report_html(validation, generated_at=dt.datetime.now(dt.UTC), links=links)


@router.get("/quality/models/{model_id}.pdf")
@allow(POPULATION_AUDIT)
async def validation_pdf(request: Request, model_id: str) -> Response:
    html = await _report(request, model_id, [])
    return await pdf_response(html, f"{model_id}-validation.pdf")


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
