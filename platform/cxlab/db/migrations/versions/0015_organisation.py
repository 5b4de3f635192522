"""the organisation tree (units, their parent links with validity periods) and the
units portal users are scoped to

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                   name=op.f(f"fk_{table}_tenant_id_tenants"), ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "org_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _tenant_fk("org_units"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_units")),
        sa.UniqueConstraint("tenant_id", "code", name="uq_org_units_tenant_code"),
    )
    op.create_index(op.f("ix_org_units_tenant_id"), "org_units", ["tenant_id"])
    op.create_table(
        "org_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        _tenant_fk("org_links"),
        sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"],
                                name=op.f("fk_org_links_unit_id_org_units"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["parent_id"], ["org_units.id"],
                                name=op.f("fk_org_links_parent_id_org_units"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_links")),
    )
    for column in ("tenant_id", "unit_id", "parent_id"):
        op.create_index(op.f(f"ix_org_links_{column}"), "org_links", [column])
    op.create_table(
        "user_scopes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        _tenant_fk("user_scopes"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_user_scopes_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["org_units.id"],
                                name=op.f("fk_user_scopes_unit_id_org_units"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_scopes")),
        sa.UniqueConstraint("user_id", "unit_id", name="uq_user_scopes_user_unit"),
    )
    op.create_index(op.f("ix_user_scopes_tenant_id"), "user_scopes", ["tenant_id"])


def downgrade() -> None:
    op.drop_table("user_scopes")
    op.drop_table("org_links")
    op.drop_table("org_units")
