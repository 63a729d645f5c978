"""SMART on FHIR as a server (issue 14, part 2): registered apps, authorization codes, and
SMART access tokens.

- `smart_clients`: the apps allowed to ask (a public browser app with its redirect URIs, or a
  backend service with its public keys and the service account it acts as) and the most each
  may be granted.
- `smart_codes`: the authorization codes given to an app's redirect URI, as hashes, each
  used once within minutes, with the PKCE challenge its token request must answer.
- `api_tokens` gains the SMART app, scopes and launch patient of a token issued to an app; a
  SMART token is an API token (revoked by a password reset, a disabled or locked account, as
  every token is), narrowed by its scopes to the FHIR API.

Plain ADD COLUMN on both databases (no batch copy on SQLite).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOKEN_COLUMNS = ("smart_client_id", "smart_scopes", "smart_patient_id")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "smart_clients",
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("redirect_uris", _json(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("jwks", _json(), nullable=True),
        sa.Column("user_id", sa.String(36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('public', 'backend')", name=op.f("ck_smart_clients_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_smart_clients_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_smart_clients")),
    )
    op.create_table(
        "smart_codes",
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(100), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("patient_id", sa.String(36), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["smart_clients.client_id"],
            name=op.f("fk_smart_codes_client_id_smart_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_smart_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_smart_codes")),
    )
    op.create_index(op.f("ix_smart_codes_expires_at"), "smart_codes", ["expires_at"])
    op.add_column("api_tokens", sa.Column("smart_client_id", sa.String(100), nullable=True))
    op.add_column("api_tokens", sa.Column("smart_scopes", sa.Text(), nullable=True))
    op.add_column("api_tokens", sa.Column("smart_patient_id", sa.String(36), nullable=True))


def downgrade() -> None:
    for column in _TOKEN_COLUMNS:
        op.execute(f"ALTER TABLE api_tokens DROP COLUMN {column}")
    op.drop_index(op.f("ix_smart_codes_expires_at"), table_name="smart_codes")
    op.drop_table("smart_codes")
    op.drop_table("smart_clients")
