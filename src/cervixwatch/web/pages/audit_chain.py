"""The audit chain verified, for auditors (issue 13, part 9).

    GET /audit/chain    walk the log from its first entry to its head and through every
                        checkpoint in the server's file of them, as `cervixwatch audit
                        verify --checkpoint FILE` does; show what holds, or the first break

The walk reads the whole log, so it is made when an auditor asks for it (this page), not on
every page of the log. A read of the log like any other: recorded as "audit-read".
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response

from cervixwatch.app.audit_chain_status import verify_chain
from cervixwatch.web.access import allow
from cervixwatch.web.pages.admin_shared import AUDIT_PAGES
from cervixwatch.web.pages.core import PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/audit/chain")
@allow(AUDIT_PAGES)
def chain_page(request: Request) -> Response:
    settings = request.app.state.settings
    found = verify_chain(
        request.app.state.engine, settings.audit_checkpoints, dt.datetime.now(dt.UTC)
    )
    return render(request, "audit_chain.html", {"checked": found})
