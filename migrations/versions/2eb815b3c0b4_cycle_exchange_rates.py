"""cycle exchange rates: units of each national currency per euro for the cycle's period

Revision ID: 2eb815b3c0b4
Revises: 8a9c61cc5915
Create Date: 2026-12-05 21:37:15.338905

"""
from alembic import op
import sqlalchemy as sa

import app.models._base  # noqa: F401  (column types used below)


# revision identifiers, used by Alembic.
revision = '2eb815b3c0b4'
down_revision = '8a9c61cc5915'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rates', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))


def downgrade():
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('rates')

