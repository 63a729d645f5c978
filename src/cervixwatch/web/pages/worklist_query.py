"""The worklist's query as its page, its handover list and its CSV read it: the filter form's
fields (GET parameters), checked, and the `WorklistSearch` they make.

A value the form never offers (`overdue=maybe`, `sort=age`) is a 400 page naming the field;
the page number and size are forgiving instead (`?page=0`, `?page=x`: the first page, said on
the page), since they come from links people edit and share.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Final, Literal
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Query

from cervixwatch.app.worklist import GaWindow, WorklistSearch, WorklistSort
from cervixwatch.clinical.gestation import ga
from cervixwatch.web.access import ScopeDep
from cervixwatch.web.api.types import SearchText
from cervixwatch.web.deps import ProfilesDep, SettingsDep

TierChoice = Literal["", "high", "intermediate", "low", "unknown"]
YesNo = Literal["", "true", "false"]
Only = Literal["", "true"]
GaChoice = Literal["", "16-24"]

#: Gestational-age windows the filter offers, both ends included: 16+0-24+0 is the window of
#: the cervical-length surveillance (SBL-04, NICE-01, ACOG234-01).
GA_WINDOWS: Final = {"16-24": GaWindow(ga("16+0"), ga("24+0"))}
GA_LABELS: Final = {"16-24": "16+0 to 24+0 weeks"}
#: The page sizes the form offers (any size up to the server's maximum may be linked).
PAGE_SIZES: Final = (25, 50, 100, 200)


@dataclass(frozen=True, slots=True)
class Filters:
    """The worklist's query as the form holds it (empty: no filter)."""

    q: str = ""
    overdue: YesNo = ""
    urgent: YesNo = ""
    guideline: str = ""
    #: The form offers one tier; a link may carry several (as the API takes them).
    tiers: tuple[str, ...] = ()
    cerclage: Only = ""
    removal: Only = ""
    ga: GaChoice = ""
    no_scan: Only = ""
    sort: WorklistSort = "urgent"
    #: As asked (None: the default size, left out of links).
    page_size: int | None = None

    @property
    def filtered(self) -> bool:
        return any(
            (
                self.q,
                self.overdue,
                self.urgent,
                self.guideline,
                self.tiers,
                self.cerclage,
                self.removal,
                self.ga,
                self.no_scan,
            )
        )

    def query(self, **changes: str | int | None) -> str:
        """The query string of these filters (empty ones left out) with `changes`."""
        values: dict[str, str | int | tuple[str, ...] | None] = {
            "q": self.q,
            "overdue": self.overdue,
            "urgent": self.urgent,
            "guideline": self.guideline,
            "tier": self.tiers,
            "cerclage": self.cerclage,
            "removal": self.removal,
            "ga": self.ga,
            "no_scan": self.no_scan,
            "sort": "" if self.sort == "urgent" else self.sort,
            "page_size": self.page_size,
            **changes,
        }
        return urlencode({k: v for k, v in values.items() if v not in ("", (), None)}, doseq=True)

    def sorted_by(self, sort: WorklistSort) -> Filters:
        return replace(self, sort=sort)


def _flag(value: YesNo) -> bool | None:
    return None if value == "" else value == "true"


def _only(value: Only) -> bool | None:
    return True if value else None


async def read_filters(
    profiles: ProfilesDep,
    q: Annotated[
        SearchText,
        Query(description="Her name (either order), hospital or NHS number, or date of birth."),
    ] = "",
    overdue: YesNo = "",
    urgent: YesNo = "",
    guideline: Annotated[str, Query(max_length=64)] = "",
    tier: Annotated[list[TierChoice] | None, Query()] = None,
    cerclage: Only = "",
    removal: Only = "",
    ga: GaChoice = "",
    no_scan: Only = "",
    sort: Annotated[WorklistSort | Literal[""], Query()] = "",
    page_size: Annotated[str, Query(max_length=12)] = "",
) -> Filters:
    if guideline and guideline not in profiles:
        raise HTTPException(400, f"guideline: choose one of {', '.join(profiles)}")
    size = int(page_size) if page_size.isdigit() and int(page_size) > 0 else None
    return Filters(
        q=q,
        overdue=overdue,
        urgent=urgent,
        guideline=guideline,
        tiers=tuple(sorted({t for t in tier or () if t})),
        cerclage=cerclage,
        removal=removal,
        ga=ga,
        no_scan=no_scan,
        sort=sort or "urgent",
        page_size=size,
    )


FiltersDep = Annotated[Filters, Depends(read_filters)]


def search_of(filters: Filters, scope: ScopeDep) -> WorklistSearch:
    tiers = filters.tiers
    return WorklistSearch(
        risk_tiers=None if not tiers else {None if t == "unknown" else t for t in tiers},
        urgent=_flag(filters.urgent),
        overdue=_flag(filters.overdue),
        guideline=filters.guideline or None,
        search=filters.q or None,
        cerclage_in_situ=_only(filters.cerclage),
        removal_due=_only(filters.removal),
        ga_window=GA_WINDOWS.get(filters.ga),
        no_scan=_only(filters.no_scan),
        sort=filters.sort,
        scope=scope,
    )


def page_size_of(filters: Filters, settings: SettingsDep) -> int:
    """The size asked for, within the server's maximum; else the server's default."""
    size = filters.page_size or settings.page_size
    return min(size, settings.max_page_size)


def page_number(page: str) -> int | None:
    """`?page=` as a page number from 1; None when it is not one (0, -1, "x")."""
    text = page.strip()
    if not text.isdigit() or int(text) < 1:
        return None
    return min(int(text), 1_000_000)
