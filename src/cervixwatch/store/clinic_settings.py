"""The clinic's settings row (`models.ClinicSettingsRow`): read it, and write it whole.

There is at most one row (id 1); none until an admin first saves the settings
(`app.clinic_settings` gives the defaults then)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from cervixwatch.store.models import ClinicSettingsRow

ROW_ID: Final = 1


def read_row(session: Session) -> ClinicSettingsRow | None:
    return session.get(ClinicSettingsRow, ROW_ID)


def write_row(session: Session, values: Mapping[str, Any]) -> ClinicSettingsRow:
    """Set every column of the row to `values` (the row made if there is none yet); locked
    for the rest of the transaction on PostgreSQL, so two saves do not interleave."""
    row = session.get(ClinicSettingsRow, ROW_ID, with_for_update=True)
    if row is None:
        row = ClinicSettingsRow(id=ROW_ID)
        session.add(row)
    for column, value in values.items():
        setattr(row, column, value)
    session.flush()
    return row
