"""a response's progress, kept as answers are saved; a version's check result, kept from its upload

Revision ID: c3d4e5f6a7b8
Revises: b7c1d2e3f4a5
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c3d4e5f6a7b8'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('to_answer', sa.Integer(), nullable=True))
    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_issues', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('questionnaire_version', schema=None) as batch_op:
        batch_op.drop_column('check_issues')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('to_answer')
        batch_op.drop_column('answered')
