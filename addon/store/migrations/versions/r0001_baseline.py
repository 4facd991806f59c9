"""The flow log as it was before migrations: flows, tool_calls, originals, meta.

Revision ID: r0001
Revises: none
"""

from __future__ import annotations

from alembic import op

from headroom_mitm.addon.store.migrations.baseline import BASELINE, BASELINE_SCHEMA_VERSION

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    connection = op.get_bind()
    BASELINE.create_all(connection, checkfirst=False)
    meta = BASELINE.tables["meta"]
    connection.execute(meta.insert().values(key="schema_version", value=str(BASELINE_SCHEMA_VERSION)))


def downgrade() -> None:
    BASELINE.drop_all(op.get_bind())
