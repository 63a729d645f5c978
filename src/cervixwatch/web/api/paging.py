"""Pages of a list: `page` (from 1) and `page_size` (default and maximum from the settings; a
larger size asked for is served at the maximum, and the answer says which size it used)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from cervixwatch.web.deps import SettingsDep

#: Far beyond any real list; keeps the row offset within what databases accept.
MAX_PAGE = 1_000_000


@dataclass(frozen=True, slots=True)
class Paging:
    page: int
    page_size: int


async def paging(
    settings: SettingsDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="The page, from 1.")] = 1,
    page_size: Annotated[
        int | None,
        Query(
            ge=1,
            description="Items per page (default and maximum: the server's settings; more is"
            " served as the maximum).",
        ),
    ] = None,
) -> Paging:
    size = settings.page_size if page_size is None else page_size
    return Paging(page, min(size, settings.max_page_size))


PagingDep = Annotated[Paging, Depends(paging)]
