"""Alembic's entry point: run the revisions on the connection ``ragline.schema`` hands over.

Alembic executes this file for every command; ``ragline.schema`` opens the connection
(and holds the migration lock) and passes it in ``config.attributes["connection"]``,
so the database URL never goes through Alembic's config (nor into its log lines).

``target_metadata`` is the models', for autogenerating the next revision against a
database at head::

    with create_engine(url).begin() as conn:
        alembic.command.revision(
            ragline.schema.alembic_config(conn), "what changed", autogenerate=True, rev_id="0002"
        )

then read and trim what it wrote. The revisions themselves never import the models.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from governance.audit_tables import AuditBase
from governance.key_tables import KeyBase
from governance.review_tables import ReviewBase
from ingest.registry_tables import Base
from prompts.tables import PromptBase
from usage.tables import UsageBase


def run_migrations(connection: Connection, target_metadata: list[MetaData]) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters a table by copying it; Alembic's batch mode does that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic sets ``context.config`` only while it runs this file; a plain import (the
# CI step that imports every module) finds none and does nothing.
if hasattr(context, "config"):
    run_migrations(
        context.config.attributes["connection"],
        [
            Base.metadata,
            AuditBase.metadata,
            PromptBase.metadata,
            UsageBase.metadata,
            KeyBase.metadata,
            ReviewBase.metadata,
        ],
    )
