"""Per flow: what it cost and saved in USD, the 1-hour cache writes, why the prompt cache
missed, the limit that refused it; per tool call: the compressors, tokens before and after,
and the text as sent."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

_FLOW_COLUMNS = (
    ("usage_cache_write_1h", sa.Integer()),
    ("cost_usd", sa.Float()),
    ("saved_usd", sa.Float()),
    ("saved_tokens", sa.Integer()),
    ("price_checked", sa.String()),
    ("cache_miss", sa.String()),
    ("cache_miss_where", sa.Text()),
    ("cache_miss_tokens", sa.Integer()),
    ("limited", sa.Text()),
)
_TOOL_CALL_COLUMNS = (
    ("compressor", sa.String()),
    ("tokens_before", sa.Integer()),
    ("tokens_after", sa.Integer()),
    ("sent", sa.Text()),
)


def upgrade() -> None:
    for name, kind in _FLOW_COLUMNS:
        op.add_column("flows", sa.Column(name, kind, nullable=True))
    for name, kind in _TOOL_CALL_COLUMNS:
        op.add_column("tool_calls", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tool_calls") as batch:
        for name, _ in reversed(_TOOL_CALL_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("flows") as batch:
        for name, _ in reversed(_FLOW_COLUMNS):
            batch.drop_column(name)
