"""Pregnancies listed by status with their women (the clinicians' list of ended pregnancies,
`/pregnancies?status=ended`): SQL only."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from cervixwatch.access.principal import Scope
from cervixwatch.store.accounts import in_scope
from cervixwatch.store.models import PatientRow, PregnancyRow, PregnancyStatus

__all__ = ["pregnancies_by_status"]


def pregnancies_by_status(
    session: Session, status: PregnancyStatus, scope: Scope, *, limit: int, offset: int
) -> Sequence[tuple[PregnancyRow, PatientRow]]:
    """The pregnancies of `status` of the women `scope` may see, the latest ended (else the
    latest due) first."""
    query = (
        select(PregnancyRow, PatientRow)
        .join(PatientRow, PatientRow.id == PregnancyRow.patient_id)
        .where(PregnancyRow.status == status, in_scope(PatientRow.id, scope))
        .order_by(
            PregnancyRow.ended_on.desc().nulls_last(),
            PregnancyRow.edd.desc().nulls_last(),
            PregnancyRow.id,
        )
        .limit(limit)
        .offset(offset)
    )
    return [(row[0], row[1]) for row in session.execute(query)]
