"""Initial schema: patients, pregnancies, their records, source identifiers, assessments.

Written from Alembic's autogenerate output and reviewed. Values of enumerations are spelled
out (not imported from the domain) so this migration stays what it was when a later one
changes them. Names follow `models.NAMING_CONVENTION`.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("form", "fhir", "dicom-sr", "hl7v2")
CERCLAGE_INDICATIONS = ("history-indicated", "ultrasound-indicated", "exam-indicated", "abdominal")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *, nullable: bool = False) -> sa.Column[object]:
    """An enumeration stored as its string value; its CHECK is `_one_of`."""
    return sa.Column(name, sa.String(40), nullable=nullable)


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def _check(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=f"ck_{table}_{name}")


def _partial_date_check(table: str, prefix: str) -> list[sa.CheckConstraint]:
    return [
        _check(table, f"{prefix}_month_range", f"{prefix}_month BETWEEN 1 AND 12"),
        _check(table, f"{prefix}_day_range", f"{prefix}_day BETWEEN 1 AND 31"),
        _check(
            table,
            f"{prefix}_partial_date",
            f"({prefix}_year IS NOT NULL OR {prefix}_month IS NULL)"
            f" AND ({prefix}_month IS NOT NULL OR {prefix}_day IS NULL)",
        ),
    ]


def _record_table(table: str, owner: str, *items: sa.Column[object] | sa.Constraint) -> None:
    """A table of one kind of record, owned by a patient or a pregnancy (deleted with it),
    saying where each record came from."""
    owner_table = {"patient_id": "patients", "pregnancy_id": "pregnancies"}[owner]
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(owner, sa.String(36), nullable=False),
        *items,
        _enum("source"),
        sa.Column("source_ref", sa.String(255), nullable=True),
        _one_of(table, "source", SOURCES),
        sa.ForeignKeyConstraint(
            [owner],
            [f"{owner_table}.id"],
            name=f"fk_{table}_{owner}_{owner_table}",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    )
    op.create_index(f"ix_{table}_{owner}", table, [owner])


def upgrade() -> None:
    op.create_table(
        "patients",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("hospital_number", sa.String(64), nullable=False),
        sa.Column("family_name", sa.String(200), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.UniqueConstraint("hospital_number", name="uq_patients_hospital_number"),
    )

    op.create_table(
        "pregnancies",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("edd", sa.Date(), nullable=True),
        sa.Column("fetuses", sa.Integer(), nullable=True),
        _enum("status"),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("notes", _json(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _check("pregnancies", "fetuses_positive", "fetuses >= 1"),
        _one_of("pregnancies", "status", ("active", "ended")),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_pregnancies_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_pregnancies"),
    )
    op.create_index("ix_pregnancies_patient_id", "pregnancies", ["patient_id"])
    op.create_index("ix_pregnancies_status", "pregnancies", ["status"])
    # At most one active pregnancy per woman.
    op.create_index(
        "uq_pregnancies_one_active",
        "pregnancies",
        ["patient_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )

    # --- the woman's history ------------------------------------------------------------------
    _record_table(
        "prior_pregnancies",
        "patient_id",
        sa.Column("ended_year", sa.Integer(), nullable=True),
        sa.Column("ended_month", sa.Integer(), nullable=True),
        sa.Column("ended_day", sa.Integer(), nullable=True),
        _enum("outcome", nullable=True),
        sa.Column("gestation_days", sa.Integer(), nullable=True),
        _enum("onset", nullable=True),
        _enum("cerclage", nullable=True),
        sa.Column("fetuses", sa.Integer(), nullable=True),
        *_partial_date_check("prior_pregnancies", "ended"),
        _check("prior_pregnancies", "gestation_days_positive", "gestation_days >= 0"),
        _check("prior_pregnancies", "fetuses_positive", "fetuses >= 1"),
        _one_of(
            "prior_pregnancies",
            "outcome",
            ("live-birth", "stillbirth", "miscarriage", "termination", "ectopic"),
        ),
        _one_of(
            "prior_pregnancies",
            "onset",
            (
                "spontaneous-labour",
                "pprom",
                "painless-cervical-dilation",
                "medically-indicated",
                "unknown",
            ),
        ),
        _one_of("prior_pregnancies", "cerclage", CERCLAGE_INDICATIONS),
    )
    _record_table(
        "cervical_excisions",
        "patient_id",
        _enum("kind"),
        sa.Column("depth_mm", sa.Double(), nullable=True),
        sa.Column("performed_year", sa.Integer(), nullable=True),
        sa.Column("performed_month", sa.Integer(), nullable=True),
        sa.Column("performed_day", sa.Integer(), nullable=True),
        _check("cervical_excisions", "depth_positive", "depth_mm >= 0"),
        *_partial_date_check("cervical_excisions", "performed"),
        _one_of("cervical_excisions", "kind", ("lletz", "cone-biopsy", "trachelectomy")),
    )
    _record_table(
        "maternal_conditions",
        "patient_id",
        _enum("condition"),
        _one_of(
            "maternal_conditions",
            "condition",
            (
                "uterine-anomaly",
                "intrauterine-adhesions",
                "cervical-insufficiency",
                "caesarean-full-dilatation",
            ),
        ),
        sa.UniqueConstraint(
            "patient_id", "condition", name="uq_maternal_conditions_patient_id_condition"
        ),
    )

    # --- this pregnancy -------------------------------------------------------------------------
    _record_table(
        "cervical_lengths",
        "pregnancy_id",
        sa.Column("measured_on", sa.Date(), nullable=False),
        sa.Column("length_mm", sa.Double(), nullable=False),
        _enum("method"),
        sa.Column("operator", sa.String(200), nullable=True),
        sa.Column("device", sa.String(200), nullable=True),
        _check("cervical_lengths", "length_positive", "length_mm > 0"),
        _one_of("cervical_lengths", "method", ("transvaginal", "transabdominal", "other")),
    )
    _record_table(
        "cervical_exams",
        "pregnancy_id",
        sa.Column("examined_on", sa.Date(), nullable=False),
        sa.Column("dilation_cm", sa.Double(), nullable=True),
        sa.Column("effacement_percent", sa.Double(), nullable=True),
        sa.Column("membranes_exposed", sa.Boolean(), nullable=True),
        _check("cervical_exams", "dilation_positive", "dilation_cm >= 0"),
        _check("cervical_exams", "effacement_range", "effacement_percent BETWEEN 0 AND 100"),
    )
    _record_table(
        "fibronectin_tests",
        "pregnancy_id",
        sa.Column("tested_on", sa.Date(), nullable=False),
        sa.Column("ng_per_ml", sa.Double(), nullable=True),
        sa.Column("positive", sa.Boolean(), nullable=True),
        _check("fibronectin_tests", "ng_per_ml_positive", "ng_per_ml >= 0"),
    )
    _record_table(
        "complications",
        "pregnancy_id",
        _enum("complication"),
        sa.Column("noted_on", sa.Date(), nullable=True),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        _one_of(
            "complications",
            "complication",
            (
                "preterm-labour",
                "ruptured-membranes",
                "chorioamnionitis",
                "vaginal-bleeding",
                "fetal-death",
                "lethal-fetal-anomaly",
                "placenta-praevia",
            ),
        ),
    )
    _record_table(
        "cerclage_placements",
        "pregnancy_id",
        sa.Column("placed_on", sa.Date(), nullable=False),
        _enum("route"),
        _enum("indication", nullable=True),
        _one_of("cerclage_placements", "route", ("transvaginal", "transabdominal", "unknown")),
        _one_of("cerclage_placements", "indication", CERCLAGE_INDICATIONS),
    )
    _record_table(
        "cerclage_removals",
        "pregnancy_id",
        sa.Column("removed_on", sa.Date(), nullable=False),
    )
    _record_table(
        "medications",
        "pregnancy_id",
        _enum("medication"),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        _enum("status"),
        _one_of(
            "medications", "medication", ("vaginal-progesterone", "hydroxyprogesterone-caproate")
        ),
        _one_of("medications", "status", ("active", "stopped", "completed")),
    )
    _record_table(
        "symptom_reports",
        "pregnancy_id",
        sa.Column("reported_on", sa.Date(), nullable=False),
        _timestamp("reported_at", nullable=True),
        sa.Column("present", _json(), nullable=False),
        sa.Column("absent", _json(), nullable=False),
    )

    # --- identity of imported records and the current assessment -------------------------------
    op.create_table(
        "source_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=False),
        sa.Column("system", sa.String(255), nullable=False),
        sa.Column("value", sa.String(255), nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("row_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name="fk_source_identifiers_patient_id_patients",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_source_identifiers"),
        sa.UniqueConstraint("system", "value", name="uq_source_identifiers_system_value"),
    )
    op.create_index("ix_source_identifiers_patient_id", "source_identifiers", ["patient_id"])
    op.create_index(
        "ix_source_identifiers_table_name_row_id", "source_identifiers", ["table_name", "row_id"]
    )

    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pregnancy_id", sa.String(36), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("knowledge", _json(), nullable=False),
        _timestamp("computed_at"),
        sa.Column("result", _json(), nullable=False),
        sa.Column("ga_days", sa.Integer(), nullable=True),
        sa.Column("risk_tier", sa.String(32), nullable=True),
        sa.Column("next_scan_due", sa.Date(), nullable=True),
        sa.Column("next_scan_status", sa.String(16), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("codes", _json(), nullable=False),
        sa.Column("latest_length_mm", sa.Double(), nullable=True),
        sa.Column("latest_length_on", sa.Date(), nullable=True),
        sa.Column("shortest_length_mm", sa.Double(), nullable=True),
        sa.Column("shortest_length_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pregnancy_id"],
            ["pregnancies.id"],
            name="fk_assessments_pregnancy_id_pregnancies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_assessments"),
        sa.UniqueConstraint("pregnancy_id", name="uq_assessments_pregnancy_id"),
    )
    # What the worklist filters and sorts on.
    op.create_index("ix_assessments_risk_tier", "assessments", ["risk_tier"])
    op.create_index("ix_assessments_next_scan_due", "assessments", ["next_scan_due"])
    op.create_index("ix_assessments_overdue", "assessments", ["overdue"])
    op.create_index(
        "ix_assessments_urgent_next_scan_due", "assessments", ["urgent", "next_scan_due"]
    )


def downgrade() -> None:
    # Children before parents; a table's indexes go with it.
    for table in (
        "assessments",
        "source_identifiers",
        "symptom_reports",
        "medications",
        "cerclage_removals",
        "cerclage_placements",
        "complications",
        "fibronectin_tests",
        "cervical_exams",
        "cervical_lengths",
        "maternal_conditions",
        "cervical_excisions",
        "prior_pregnancies",
        "pregnancies",
        "patients",
    ):
        op.drop_table(table)
