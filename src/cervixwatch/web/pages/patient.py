"""(Being built: see docs/pages.md when it lands.)"""

from __future__ import annotations

from fastapi import APIRouter

from cervixwatch.web.pages.core import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)
