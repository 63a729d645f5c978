"""Patient identity (issue 11): a woman is known by (identifier system, value) pairs, never by a
value alone.

- `patient_identifiers`: her identifiers, unique per (system, value); one sent without a system
  is unique only within the source that sent it (a partial unique index on (source, value)).
- `patients.hospital_number` is no longer unique (two hospitals may give the same number) and
  may be empty (a woman known only by identifiers of other systems); it widens to 255, as
  identifier values do. `patients.gender` and `patients.names` (every HumanName with its use)
  are added.
- Every stored hospital number becomes an identifier of the installation's hospital-number
  system (`CERVIXWATCH_HOSPITAL_NUMBER_SYSTEM`, read when the migration runs), typed MR, use
  usual: what the number meant before, since it was the number an import found her by.

On SQLite the `patients` table is rebuilt to drop its unique constraint (batch mode), which
`store.migrate` runs with foreign-key enforcement off so the rebuild cascades to nothing.

A downgrade keeps each woman's hospital number (one with none gets her CervixWatch id) and
fails if two women share one: it cannot be undone without merging them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENDERS = ("male", "female", "other", "unknown")
IDENTIFIER_USES = ("usual", "official", "temp", "secondary", "old")
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _hospital_number_system() -> str:
    # Read here, not imported at module level: the settings are the installation's, as they
    # are when the migration runs.
    from cervixwatch.settings import Settings

    return Settings().hospital_number_system


def upgrade() -> None:
    op.create_table(
        "patient_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("system", sa.String(255), nullable=True),
        sa.Column("source", sa.String(255), nullable=True),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("use", sa.String(40), nullable=True),
        sa.Column("type_system", sa.String(255), nullable=True),
        sa.Column("type_code", sa.String(64), nullable=True),
        sa.Column("type_text", sa.String(200), nullable=True),
        _one_of("patient_identifiers", "use", IDENTIFIER_USES),
        sa.CheckConstraint(
            "(system IS NULL) <> (source IS NULL)",
            name="ck_patient_identifiers_system_or_source",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_patient_identifiers_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_patient_identifiers"),
        sa.UniqueConstraint("system", "value", name="uq_patient_identifiers_system_value"),
    )
    op.create_index("ix_patient_identifiers_patient_id", "patient_identifiers", ["patient_id"])
    op.create_index(
        "uq_patient_identifiers_source_value",
        "patient_identifiers",
        ["source", "value"],
        unique=True,
        sqlite_where=sa.text("system IS NULL"),
        postgresql_where=sa.text("system IS NULL"),
    )
    with op.batch_alter_table("patients") as batch:
        batch.drop_constraint("uq_patients_hospital_number", type_="unique")
        batch.alter_column(
            "hospital_number",
            existing_type=sa.String(64),
            type_=sa.String(255),
            nullable=True,
        )
        batch.add_column(sa.Column("gender", sa.String(40), nullable=True))
        batch.add_column(
            sa.Column("names", _json(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.create_check_constraint("ck_patients_gender", _one_of_text("gender", GENDERS))
        batch.create_index("ix_patients_hospital_number", ["hospital_number"])
    op.get_bind().execute(
        sa.text(
            "INSERT INTO patient_identifiers (patient_id, system, value, use, type_system, "
            "type_code, type_text) SELECT id, :system, hospital_number, 'usual', :v2, 'MR', "
            "'Hospital number' FROM patients WHERE hospital_number IS NOT NULL"
        ),
        {"system": _hospital_number_system(), "v2": V2_0203},
    )


def _one_of_text(column: str, values: Sequence[str]) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({listed})"


def downgrade() -> None:
    op.execute("UPDATE patients SET hospital_number = id WHERE hospital_number IS NULL")
    with op.batch_alter_table("patients") as batch:
        batch.drop_index("ix_patients_hospital_number")
        batch.drop_constraint("ck_patients_gender", type_="check")
        batch.drop_column("names")
        batch.drop_column("gender")
        batch.alter_column(
            "hospital_number",
            existing_type=sa.String(255),
            type_=sa.String(64),
            nullable=False,
        )
        batch.create_unique_constraint("uq_patients_hospital_number", ["hospital_number"])
    op.drop_index("uq_patient_identifiers_source_value", table_name="patient_identifiers")
    op.drop_index("ix_patient_identifiers_patient_id", table_name="patient_identifiers")
    op.drop_table("patient_identifiers")
