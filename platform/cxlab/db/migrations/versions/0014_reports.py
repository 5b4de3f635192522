"""reports a client can act on: the tenant's language, report subscriptions, and
outbox rows that carry a file and a unique delivery key (user, job, period)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not batch mode: on SQLite that copies and drops ``tenants``, and with foreign keys
    # on, dropping it would cascade to every tenant's rows. ADD/DROP COLUMN is native.
    op.add_column("tenants", sa.Column(
        "language", sa.String(length=5), nullable=False, server_default="ja"
    ))
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment_path", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("delivery_key", sa.String(length=300), nullable=True))
        batch_op.create_unique_constraint("uq_outbox_delivery_key", ["delivery_key"])
    op.create_table(
        "report_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"],
            name=op.f("fk_report_subscriptions_tenant_id_tenants"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"],
            name=op.f("fk_report_subscriptions_user_id_users"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_subscriptions")),
        sa.UniqueConstraint("user_id", "job", name="uq_report_subscriptions_user_job"),
    )
    with op.batch_alter_table("report_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_subscriptions_tenant_id"), ["tenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_subscriptions_tenant_id"))
    op.drop_table("report_subscriptions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_delivery_key", type_="unique")
        batch_op.drop_column("delivery_key")
        batch_op.drop_column("attachment_path")
    op.drop_column("tenants", "language")
