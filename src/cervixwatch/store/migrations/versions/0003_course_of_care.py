"""The course of care (issue 10): declined decisions, reviews of symptom reports, who reported
a symptom, lengths reported as a bound, and history known only from a count.

- `declined_decisions`: an offer the woman declined in this pregnancy, with its date.
- `symptom_reviews`: a clinician's review of a symptom report (CD-07), deleted with its report.
- `symptom_reports.reported_by`, `cervical_lengths.comparator` ("<10 mm") and
  `prior_pregnancies.counted_as` (a pregnancy known only from a count in a summary).

Written by hand in the style of 0001 (values of enumerations spelled out, names as
`models.NAMING_CONVENTION` gives them). A new column with a CHECK is added by one
`ALTER TABLE ... ADD COLUMN ... CONSTRAINT ... CHECK`, which SQLite and PostgreSQL both take
(SQLite could otherwise add a constraint only by copying the table).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SOURCES = ("form", "fhir", "dicom-sr", "hl7v2")
DECLINABLE_CODES = (
    "vaginal-progesterone",
    "history-indicated-cerclage",
    "ultrasound-indicated-cerclage",
    "exam-indicated-cerclage",
    "consider-abdominal-cerclage",
    "serial-cervical-length",
    "single-cervical-length-screen",
    "refer-preterm-birth-clinic",
    "remove-cerclage",
)
REVIEW_OUTCOMES = ("seen-in-triage", "advised-by-phone", "admitted", "no-action-needed")
LENGTH_COMPARATORS = ("<", "<=", ">=", ">")


def _one_of(table: str, column: str, values: Sequence[str]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}")


def _provenance(table: str) -> list[sa.Column[object] | sa.Constraint]:
    return [
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_ref", sa.String(255), nullable=True),
        _one_of(table, "source", SOURCES),
    ]


def _add_enum_column(table: str, column: str, values: Sequence[str]) -> None:
    listed = ", ".join(f"'{v}'" for v in values)
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column} VARCHAR(40) "
        f"CONSTRAINT ck_{table}_{column} CHECK ({column} IN ({listed}))"
    )


def upgrade() -> None:
    op.create_table(
        "declined_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pregnancy_id", sa.String(36), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("declined_on", sa.Date(), nullable=False),
        *_provenance("declined_decisions"),
        _one_of("declined_decisions", "code", DECLINABLE_CODES),
        sa.ForeignKeyConstraint(
            ["pregnancy_id"],
            ["pregnancies.id"],
            name="fk_declined_decisions_pregnancy_id_pregnancies",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_declined_decisions"),
    )
    op.create_index("ix_declined_decisions_pregnancy_id", "declined_decisions", ["pregnancy_id"])

    op.create_table(
        "symptom_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("symptom_report_id", sa.Integer(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(40), nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=True),
        *_provenance("symptom_reviews"),
        _one_of("symptom_reviews", "outcome", REVIEW_OUTCOMES),
        sa.ForeignKeyConstraint(
            ["symptom_report_id"],
            ["symptom_reports.id"],
            name="fk_symptom_reviews_symptom_report_id_symptom_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_symptom_reviews"),
    )
    op.create_index(
        "ix_symptom_reviews_symptom_report_id", "symptom_reviews", ["symptom_report_id"]
    )

    op.add_column("symptom_reports", sa.Column("reported_by", sa.String(200), nullable=True))
    op.add_column("prior_pregnancies", sa.Column("counted_as", sa.String(200), nullable=True))
    _add_enum_column("cervical_lengths", "comparator", LENGTH_COMPARATORS)


def downgrade() -> None:
    # SQLite drops a column in place when no other part of the schema names it (3.35+); its
    # own CHECK goes with it, as on PostgreSQL.
    op.execute("ALTER TABLE cervical_lengths DROP COLUMN comparator")
    op.execute("ALTER TABLE prior_pregnancies DROP COLUMN counted_as")
    op.execute("ALTER TABLE symptom_reports DROP COLUMN reported_by")
    op.drop_table("symptom_reviews")
    op.drop_table("declined_decisions")
