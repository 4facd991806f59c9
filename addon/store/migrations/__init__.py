"""The flow log's schema history, as Alembic revisions in ``versions/``; run by ``store.schema``.

Every proxy upgrades the log it opens to the newest revision it ships (under a lock, so any
number may start at once), and refuses a log whose revision it does not know (a newer release
wrote it). ``headroom db current`` shows where a log stands, ``headroom db upgrade`` upgrades it.

How to add a column (or a table, or an index)
---------------------------------------------
1. Change the model in ``store/models.py``.
2. Add ``versions/rNNNN_what_it_adds.py`` with the next number, ``down_revision`` set to the
   newest revision so far (``headroom db current`` prints it as "head")::

       from alembic import op
       import sqlalchemy as sa

       revision = "r0002"
       down_revision = "r0001"

       def upgrade() -> None:
           op.add_column("flows", sa.Column("credential_kind", sa.String(), nullable=True))

       def downgrade() -> None:
           with op.batch_alter_table("flows") as batch:   # SQLite drops columns in a batch
               batch.drop_column("credential_kind")

3. ``./scripts/test tests/store/test_store_migrations.py``: it fails, naming the difference, until
   the models and the revisions agree, and when two revisions claim the same parent (two
   branches merged without renumbering: point one at the other).

New columns must be nullable or have a ``server_default``: a proxy of the previous release may
still be writing the same log while the team upgrades, and its inserts do not name them.
Never edit a revision that was released, nor ``baseline.py``.
"""

from __future__ import annotations

from pathlib import Path

SCRIPT_LOCATION = Path(__file__).resolve().parent
"""The folder Alembic reads (``versions/`` inside it): shipped in the wheel as package files."""
