"""Alembic's entry: run by jukinet.store.migrate on a connection it opened and locked."""

from __future__ import annotations

from alembic import context

from jukinet.store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite changes a column by copying its table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
