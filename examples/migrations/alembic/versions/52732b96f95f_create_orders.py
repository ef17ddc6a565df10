"""create orders

Revision ID: 52732b96f95f
Revises: 0c70252f1be5
Create Date: 2026-11-30 16:32:20.785643

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '52732b96f95f'
down_revision = '0c70252f1be5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("customer_id", sa.BigInteger, sa.ForeignKey("shop.customers.id"), nullable=False),
        sa.Column("total_cents", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="shop",
    )


def downgrade() -> None:
    op.drop_table("orders", schema="shop")
