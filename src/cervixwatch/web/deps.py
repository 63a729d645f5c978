"""Dependencies every route may ask for, as `Annotated` aliases (FastAPI full-stack style)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.clinical.guidelines import GuidelineProfile
from cervixwatch.settings import Settings


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_profiles(request: Request) -> Mapping[str, GuidelineProfile]:
    profiles: Mapping[str, GuidelineProfile] = request.app.state.profiles
    return profiles


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_today(request: Request) -> dt.date:
    """The clinic's calendar day; tests give the app a fixed clock."""
    today: dt.date = request.app.state.today()
    return today


SessionsDep = Annotated[sessionmaker[Session], Depends(get_sessions)]
ProfilesDep = Annotated[Mapping[str, GuidelineProfile], Depends(get_profiles)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TodayDep = Annotated[dt.date, Depends(get_today)]
