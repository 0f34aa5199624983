"""Answers and completed steps carry their municipality, like every other row.

Before, `answers` and `steps_done` belonged to a town only through their incident. Now a query
of one town's store can name the town on every table. Existing rows take their incident's code.

Revision ID: 0002_town_on_answers_and_steps
Revises: 0001_baseline
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_town_on_answers_and_steps"
down_revision: str | None = "0001_baseline"
branch_labels = None
depends_on = None

TABLES = ("answers", "steps_done")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("municipality_code", sa.String(length=6), nullable=True))
        op.execute(
            f"UPDATE {table} SET municipality_code = (SELECT incidents.municipality_code"
            f" FROM incidents WHERE incidents.id = {table}.incident_id)"
        )
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                "municipality_code", existing_type=sa.String(length=6), nullable=False
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("municipality_code")
