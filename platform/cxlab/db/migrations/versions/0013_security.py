"""security: scoped idempotency, one response per invitation, unlinked invitations,
revocable sessions, disabled users, opaque unsubscribe links

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("responses", schema=None) as batch_op:
        # Client keys are stored as "api:<key id>:<key>" (up to 100 characters of key).
        batch_op.alter_column(
            "idempotency_key", existing_type=sa.String(length=100), type_=sa.String(length=200),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.drop_index("ix_responses_invitation_id")
        batch_op.create_index("ix_responses_invitation_id", ["invitation_id"], unique=True)
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("response_key", sa.String(length=64), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "session_generation", sa.Integer(), nullable=False, server_default="0"
        ))
        batch_op.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "opt_out_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_opt_out_links_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_out_links")),
        sa.UniqueConstraint("token", name=op.f("uq_opt_out_links_token")),
        sa.UniqueConstraint("tenant_id", "email", name="uq_opt_out_links_tenant_email"),
    )


def downgrade() -> None:
    op.drop_table("opt_out_links")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("disabled_at")
        batch_op.drop_column("session_generation")
    with op.batch_alter_table("invitations", schema=None) as batch_op:
        batch_op.drop_column("response_key")
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_invitation_id")
        batch_op.create_index("ix_responses_invitation_id", ["invitation_id"], unique=False)
        batch_op.drop_column("request_hash")
        batch_op.alter_column(
            "idempotency_key", existing_type=sa.String(length=200), type_=sa.String(length=100),
            existing_nullable=True,
        )
