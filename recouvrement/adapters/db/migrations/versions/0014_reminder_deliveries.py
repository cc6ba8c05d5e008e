"""One delivery per reminder and channel, instead of the comma-joined `channel` string.

Each existing reminder gets one row per channel its string names, in the
state the reminder was (a sent one's e-mail proved by its Message-ID, its
letter by its file); `given_up` becomes `needs_attention`. SMS opt-outs
(a debtor who answered STOP) get their table.

Revision ID: 0014_reminder_deliveries
Revises: 0013_call_tasks
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_reminder_deliveries"
down_revision = "0013_call_tasks"
branch_labels = None
depends_on = None

_reminders = sa.table(
    "reminders", sa.column("id", sa.Integer), sa.column("channel", sa.String),
    sa.column("status", sa.String), sa.column("attempts", sa.Integer),
    sa.column("last_error", sa.Text), sa.column("claimed_at", sa.DateTime(timezone=True)),
    sa.column("claimed_by", sa.String), sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("message_id", sa.String), sa.column("recipient", sa.String),
    sa.column("letter_file", sa.String))
_calls = sa.table("call_tasks", sa.column("id", sa.Integer), sa.column("reminder_id", sa.Integer))


def _deliveries_table():
    return sa.table(
        "reminder_deliveries", sa.column("reminder_id", sa.Integer),
        sa.column("channel", sa.String), sa.column("status", sa.String),
        sa.column("attempts", sa.Integer), sa.column("claimed_at", sa.DateTime(timezone=True)),
        sa.column("claimed_by", sa.String), sa.column("sent_at", sa.DateTime(timezone=True)),
        sa.column("proof", sa.String), sa.column("last_error", sa.Text),
        sa.column("payload", sa.JSON))


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # "needs_attention" is longer than 12
        op.alter_column("reminders", "status", type_=sa.String(20),
                        existing_type=sa.String(12))
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("reminder_id", sa.Integer(), sa.ForeignKey("reminders.id"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("proof", sa.String(500), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.UniqueConstraint("reminder_id", "channel", name="uq_reminder_deliveries_channel"),
    )
    op.create_index("ix_reminder_deliveries_reminder_id", "reminder_deliveries", ["reminder_id"])
    op.create_index("ix_reminder_deliveries_status", "reminder_deliveries", ["status"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("debtor_id", sa.Integer(), sa.ForeignKey("debtors.id"), primary_key=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
    )
    calls = dict(bind.execute(sa.select(_calls.c.reminder_id, _calls.c.id)
                              .where(_calls.c.reminder_id.is_not(None))).all())
    rows = [delivery for reminder in bind.execute(sa.select(_reminders)).mappings()
            for delivery in _split(reminder, calls.get(reminder["id"]))]
    for start in range(0, len(rows), 1000):
        bind.execute(sa.insert(_deliveries_table()), rows[start:start + 1000])
    bind.execute(sa.update(_reminders).where(_reminders.c.status == "given_up")
                 .values(status="needs_attention"))


def _split(reminder, call_task: int | None) -> list[dict]:
    """The reminder's deliveries, one per channel of its string, in its state."""
    status = "needs_attention" if reminder["status"] == "given_up" else reminder["status"]
    channels = [c for c in dict.fromkeys((reminder["channel"] or "email").split(",")) if c]
    if reminder["letter_file"] and "letter" not in channels:
        channels.append("letter")  # an e-mail refused for good went as a letter
    rows = []
    for channel in channels:
        row = {"reminder_id": reminder["id"], "channel": channel, "status": status,
               "attempts": reminder["attempts"] or 0, "claimed_at": reminder["claimed_at"],
               "claimed_by": reminder["claimed_by"], "sent_at": None, "proof": None,
               "last_error": None if status == "sent" else reminder["last_error"],
               "payload": None}
        if channel == "phone" and call_task is not None:
            # The task was made with its reminder, in the planning transaction.
            row.update(status="sent", proof=f"call:{call_task}", last_error=None)
        elif status == "sent":
            proof = {"email": reminder["recipient"] and reminder["message_id"],
                     "letter": reminder["letter_file"]}.get(channel)
            row.update(sent_at=reminder["sent_at"], proof=proof or None)
            if not proof:
                row.update(status="skipped",
                           last_error="no address for this channel when it was sent")
        rows.append(row)
    return rows


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.update(_reminders).where(_reminders.c.status == "needs_attention")
                 .values(status="given_up"))
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_reminder_deliveries_status", table_name="reminder_deliveries")
    op.drop_index("ix_reminder_deliveries_reminder_id", table_name="reminder_deliveries")
    op.drop_table("reminder_deliveries")
    if bind.dialect.name == "postgresql":
        op.alter_column("reminders", "status", type_=sa.String(12),
                        existing_type=sa.String(20))
