"""Alembic environment: runs only on the connection handed over by `metering.store.migrate`.

There is no alembic.ini and no URL here: the store opens its own engine (with SQLite pragmas or a
PostgreSQL search_path) and passes a sync connection through `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through metering.store.migrate, not the alembic CLI")

context.configure(
    connection=connection,
    # SQLite cannot ALTER most things; batch mode rebuilds tables for later migrations
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
