"""The one transaction of every write: all of it or none of it, a conflict with stored data
reported as `Conflict` rather than as the database's error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cervixwatch.app.assessing import AssessmentSummary
from cervixwatch.app.errors import Conflict
from cervixwatch.app.versions import keep_versions
from cervixwatch.store import transaction

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Saved(Generic[T]):
    """What a write stored, and the assessment it left current (None: no active pregnancy)."""

    row: T
    assessment: AssessmentSummary | None


@contextmanager
def writing(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction for one use case; rolled back if anything in it fails.

    Use cases check for the conflicts they can name first; a constraint that still fails
    (two requests racing for the same hospital number) is a `Conflict` too. Before it first
    changes a stored woman's rows, the versions of her FHIR resources are kept
    (`versions.keep_versions`).
    """
    try:
        with transaction(sessions) as session:
            keep_versions(session)
            yield session
    except IntegrityError as error:
        raise Conflict(
            f"the change conflicts with stored data ({type(error.orig).__name__})"
        ) from None
