"""user sessions: revocable at sign-out, on a password change, and after their lifetime

Revision ID: b7c1d2e3f4a5
Revises: 603c42f67e04
Create Date: 2026-12-05 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.models._base  # noqa: F401  (column types used below)


revision = 'b7c1d2e3f4a5'
down_revision = '603c42f67e04'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('user_session',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', app.models._base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', app.models._base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
    op.drop_table('user_session')
