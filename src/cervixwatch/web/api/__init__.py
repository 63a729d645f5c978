"""The JSON API under /api (OpenAPI at /docs).

Routes hold no SQL and no clinical logic: each parses its request, calls one use case of
`cervixwatch.app` and shapes the answer. Refusals of the use cases become 404, 409 and 422
answers in one place (`errors.translate_errors`).
"""

from fastapi import APIRouter, Depends

from cervixwatch.web.api import (
    admin,
    appointments,
    assessment,
    audit,
    corrections,
    notify_contacts,
    patients,
    pregnancies,
    pregnancy_close,
    records,
    reviews,
    worklist,
)
from cervixwatch.web.api.errors import translate_errors
from cervixwatch.web.api.methods import method_not_allowed_router

_ROUTERS = (
    patients.router,
    pregnancies.router,
    appointments.router,
    pregnancy_close.router,
    records.record_router(),
    corrections.correction_router(),
    reviews.router,
    assessment.router,
    worklist.router,
    admin.router,
    notify_contacts.router,
    audit.router,
)

router = APIRouter(dependencies=[Depends(translate_errors)])
for _router in _ROUTERS:
    router.include_router(_router)
router.include_router(method_not_allowed_router(_ROUTERS))
