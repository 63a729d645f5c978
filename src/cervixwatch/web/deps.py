"""Dependencies every route may ask for, as `Annotated` aliases (FastAPI full-stack style).

They are `async def` although they wait for nothing: FastAPI runs a plain `def` dependency in
the thread pool, a hand-off there and back per dependency per request, which cost an import
five extra trips (docs/performance.md, session 15). A dependency that reads the database stays
a plain `def`, so that it does not hold the event loop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.settings import Settings


async def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


async def get_profiles(request: Request) -> Mapping[str, GuidelineProfile]:
    profiles: Mapping[str, GuidelineProfile] = request.app.state.profiles
    return profiles


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_today(request: Request) -> dt.date:
    """The clinic's calendar day; tests give the app a fixed clock."""
    today: dt.date = request.app.state.today()
    return today


SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
ProfilesDep = Annotated[Mapping[str, GuidelineProfile], Depends(get_profiles)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TodayDep = Annotated[dt.date, Depends(get_today)]
