"""Per flow: the agent, the kind of credential (and its digest), the body's attestation, the
policy applied and why a body went unmodified, what the provider billed; and the ``breakers``
table of credentials the proxy stopped rewriting."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None

_FLOW_COLUMNS = (
    ("agent", sa.String()),
    ("credential_kind", sa.String()),
    ("credential_id", sa.String(16)),
    ("attested", sa.Boolean()),
    ("policy", sa.String()),
    ("unmodified_reason", sa.String()),
    ("billing_bucket", sa.String()),
    ("billing", sa.Text()),
    ("refusal", sa.Text()),
    ("retried", sa.Boolean()),
)


def upgrade() -> None:
    for name, kind in _FLOW_COLUMNS:
        op.add_column("flows", sa.Column(name, kind, nullable=True))
    op.create_table(
        "breakers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("credential_id", sa.String(16), nullable=False),
        sa.Column("credential_kind", sa.String(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tripped_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flow_id", sa.Integer(), sa.ForeignKey("flows.id"), nullable=True),
        sa.Column("reset_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_breakers_credential_id", "breakers", ["credential_id"])


def downgrade() -> None:
    op.drop_index("ix_breakers_credential_id", table_name="breakers")
    op.drop_table("breakers")
    with op.batch_alter_table("flows") as batch:
        for name, _ in reversed(_FLOW_COLUMNS):
            batch.drop_column(name)
