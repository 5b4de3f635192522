"""job_runs lease: a running job's runner renews ``lease_expires_at`` while it works,
and ``lease_owner`` names that runner, so a run whose runner died is taken over as soon
as its lease runs out (not hours later), and only by one other runner

Revision ID: 0017
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD/DROP COLUMN is native on SQLite and PostgreSQL: no batch copy of the table.
    op.add_column("job_runs", sa.Column("lease_expires_at", sa.DateTime(timezone=True),
                                                nullable=True))
    op.add_column("job_runs", sa.Column("lease_owner", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("job_runs", "lease_owner")
    op.drop_column("job_runs", "lease_expires_at")
