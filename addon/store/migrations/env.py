"""Alembic's entry point for the flow log's revisions: always handed an open connection.

``store.schema`` runs every command on a connection it has already locked and begun, so the
revisions run inside that one transaction (``context.begin_transaction`` is then a no-op).
"""

from alembic import context

from headroom_mitm.addon.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite alters a table by copying it: batch operations make op.drop_column & co. work there
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
