"""The assessments trigger of 0013 reads the pregnancy by its primary key alone (PostgreSQL).

Its question was `EXISTS (SELECT 1 FROM pregnancies WHERE id = NEW.pregnancy_id AND status =
'active')`. PL/pgSQL keeps a query's plan for the life of the connection; planned while the
table was nearly empty (a new database, a first import), the plan could walk the index on
`status` and filter by id, reading every active pregnancy for each assessment stored: 150
pages an insert on average over the first thousand women of an import (pg_stat_statements,
docs/performance.md, session 15), more as the clinic grows. Asked by the id alone, there is
one index to use. The answer is the same: true exactly when her pregnancy's status is active.

SQLite's trigger (0013) is untouched: SQLite plans each statement of a trigger as it runs.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BY_KEY = """
CREATE OR REPLACE FUNCTION assessments_take_pregnancy_active() RETURNS trigger AS $$
BEGIN
    NEW.pregnancy_active := COALESCE(
        (SELECT status = 'active' FROM pregnancies WHERE id = NEW.pregnancy_id), false);
    RETURN NEW;
END $$ LANGUAGE plpgsql
"""

_AS_IN_0013 = """
CREATE OR REPLACE FUNCTION assessments_take_pregnancy_active() RETURNS trigger AS $$
BEGIN
    NEW.pregnancy_active := EXISTS (
        SELECT 1 FROM pregnancies WHERE id = NEW.pregnancy_id AND status = 'active');
    RETURN NEW;
END $$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_BY_KEY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_AS_IN_0013)
