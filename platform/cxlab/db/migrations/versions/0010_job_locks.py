"""job_runs.run_key: one row, and so one runner, per job + tenant + scheduled time

Revision ID: 0010
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("run_key", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_job_runs_run_key"), ["run_key"])


def downgrade() -> None:
    with op.batch_alter_table("job_runs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_job_runs_run_key"), type_="unique")
        batch_op.drop_column("run_key")
