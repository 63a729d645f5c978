"""Versions of the FHIR resources served (issue 11, part 4).

- `resource_versions`: each kept version of a served resource, (type, id, version), with its
  woman, when it came to be, whether it is the marker of a deletion, the SHA-256 of its
  canonical JSON and the resource itself. Unique on (type, id, version), which also finds a
  resource's versions; indexed by woman.
- `patient_writes`: when a write last began to change each woman's records.

Records stored before this migration have no kept version. Each woman gets the latest time
the database knows of a change to her (her row's, her pregnancies' or her assessments', which
every write remakes) as her last write: her resources are version 1 of then, a time no
earlier than their last change (`app.versions`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-13
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resource_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_type", sa.String(40), nullable=False),
        sa.Column("resource_id", sa.String(80), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("last_updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=True),
        sa.Column("resource", _json(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_resource_versions_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_resource_versions"),
        sa.UniqueConstraint(
            "resource_type",
            "resource_id",
            "version_id",
            name="uq_resource_versions_resource_type_resource_id_version_id",
        ),
    )
    op.create_index("ix_resource_versions_patient_id", "resource_versions", ["patient_id"])
    op.create_table(
        "patient_writes",
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_patient_writes_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("patient_id", name="pk_patient_writes"),
    )
    op.execute(
        "INSERT INTO patient_writes (patient_id, written_at) "
        "SELECT patient_id, MAX(changed) FROM ("
        " SELECT id AS patient_id, updated_at AS changed FROM patients"
        " UNION ALL SELECT patient_id, updated_at FROM pregnancies"
        " UNION ALL SELECT p.patient_id, a.computed_at FROM assessments a"
        " JOIN pregnancies p ON p.id = a.pregnancy_id"
        ") AS changes GROUP BY patient_id"
    )


def downgrade() -> None:
    op.drop_table("patient_writes")
    op.drop_index("ix_resource_versions_patient_id", table_name="resource_versions")
    op.drop_table("resource_versions")
