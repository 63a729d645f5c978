"""A device message goes with the woman it was stored for (issue 14, parts 3-4).

0016 kept a device message when its woman was deleted, with its link set to NULL: the message
(its payload, her Patient ID as the device sent it, the lengths it carried) stayed, her data
without her. Deleting a woman deletes all her data (tests/store/test_cascade.py), so a
message matched to her is now deleted with her. A message in the review queue names no woman
of ours and is not touched.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FK = "fk_device_messages_patient_id_patients"


def _link(on_delete: str) -> None:
    with op.batch_alter_table("device_messages") as batch:
        batch.drop_constraint(_FK, type_="foreignkey")
        batch.create_foreign_key(_FK, "patients", ["patient_id"], ["id"], ondelete=on_delete)


def upgrade() -> None:
    _link("CASCADE")


def downgrade() -> None:
    _link("SET NULL")
