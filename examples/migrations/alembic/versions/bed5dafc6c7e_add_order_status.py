"""add order status

Revision ID: bed5dafc6c7e
Revises: 52732b96f95f
Create Date: 2026-11-30 16:32:22.180569

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'bed5dafc6c7e'
down_revision = '52732b96f95f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("status", sa.Text, nullable=False, server_default="open"), schema="shop")


def downgrade() -> None:
    op.drop_column("orders", "status", schema="shop")
