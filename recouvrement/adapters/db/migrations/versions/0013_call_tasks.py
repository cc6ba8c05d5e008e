"""Phone tasks for collectors: one per reminder whose channels include `phone`.

Revision ID: 0013_call_tasks
Revises: 0012_risk_models
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_call_tasks"
down_revision = "0012_risk_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id"), nullable=False),
        sa.Column("reminder_id", sa.Integer(), sa.ForeignKey("reminders.id"), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("worked_by", sa.String(200), nullable=True),
        sa.Column("worked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worked_on", sa.Date(), nullable=True),
        sa.UniqueConstraint("reminder_id", name="uq_call_tasks_reminder_id"),
    )
    op.create_index("ix_call_tasks_debtor_id", "call_tasks", ["debtor_id"])
    op.create_index("ix_call_tasks_status", "call_tasks", ["status"])


def downgrade() -> None:
    op.drop_index("ix_call_tasks_status", table_name="call_tasks")
    op.drop_index("ix_call_tasks_debtor_id", table_name="call_tasks")
    op.drop_table("call_tasks")
