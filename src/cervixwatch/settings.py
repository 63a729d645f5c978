"""Settings from the environment (prefix CERVIXWATCH_) or a `.env` file, never from the repo."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from cervixwatch.knowledge import BUNDLED_PROFILES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CERVIXWATCH_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL; SQLite (WAL) is the embedded default, PostgreSQL the production database.
    database_url: str = "sqlite:///./cervixwatch.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    #: Directory of guideline profile files.
    knowledge_dir: Path = BUNDLED_PROFILES
    #: Largest request body accepted, in bytes (a FHIR Bundle for one patient is far smaller).
    max_request_bytes: int = 5 * 1024 * 1024
    #: Default page size of list endpoints, and the most a client may ask for.
    page_size: int = 50
    max_page_size: int = 500


@cache
def get_settings() -> Settings:
    return Settings()
