"""What a reminder says lives in its deliveries' payloads; the reminder's columns for it go.

Each reminder's content moves into the payload of its delivery of that channel
(`ReminderDelivery`'s docstring gives the shapes): the e-mail's recipient,
subject, bodies and wire form (`mime`, kept as the 7-bit text it is) into its
e-mail delivery, with the letter's HTML when it has no letter delivery (the
letter that replaces a refused e-mail); the letter's HTML, with the subject and
text, into its letter delivery. A reminder with no delivery at all (written by
hand since 0014) gets them first, from its channel string, as 0014 made them.
Then `channel`, `recipient`, `subject`, `body_text`, `body_html`, `mime`,
`letter_html` and `letter_file` (the letter delivery's proof) are dropped.

Down again, the columns come back filled from the payloads (the channel string
from the deliveries, in their order; `letter_file` from the letter that went),
and the e-mail's and the letter's payloads are emptied as they were.

Revision ID: 0017_drop_reminder_content
Revises: 0016_agency_money
"""
from alembic import op
import sqlalchemy as sa

revision = "0017_drop_reminder_content"
down_revision = "0016_agency_money"
branch_labels = None
depends_on = None

CHUNK = 500  # reminders read and rewritten at a time

_CONTENT = ("channel", "recipient", "subject", "body_text", "body_html", "mime", "letter_html",
            "letter_file")

_reminders = sa.table(
    "reminders", sa.column("id", sa.Integer), sa.column("channel", sa.String),
    sa.column("status", sa.String), sa.column("attempts", sa.Integer),
    sa.column("last_error", sa.Text), sa.column("claimed_at", sa.DateTime(timezone=True)),
    sa.column("claimed_by", sa.String), sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("message_id", sa.String), sa.column("recipient", sa.String),
    sa.column("subject", sa.Text), sa.column("body_text", sa.Text),
    sa.column("body_html", sa.Text), sa.column("mime", sa.LargeBinary),
    sa.column("letter_html", sa.Text), sa.column("letter_file", sa.String))
_deliveries = sa.table(
    "reminder_deliveries", sa.column("id", sa.Integer), sa.column("reminder_id", sa.Integer),
    sa.column("channel", sa.String), sa.column("status", sa.String),
    sa.column("attempts", sa.Integer), sa.column("claimed_at", sa.DateTime(timezone=True)),
    sa.column("claimed_by", sa.String), sa.column("sent_at", sa.DateTime(timezone=True)),
    sa.column("proof", sa.String), sa.column("last_error", sa.Text),
    sa.column("payload", sa.JSON))
_calls = sa.table("call_tasks", sa.column("id", sa.Integer), sa.column("reminder_id", sa.Integer))

_SET_PAYLOAD = (sa.update(_deliveries).where(_deliveries.c.id == sa.bindparam("delivery_id"))
                .values(payload=sa.bindparam("new_payload")))


def _chunks(bind, columns):
    """The reminders, CHUNK at a time, with their deliveries (id order)."""
    last = 0
    while True:
        rows = bind.execute(sa.select(*columns).where(_reminders.c.id > last)
                            .order_by(_reminders.c.id).limit(CHUNK)).mappings().all()
        if not rows:
            return
        last = rows[-1]["id"]
        found: dict[int, list] = {r["id"]: [] for r in rows}
        for d in bind.execute(sa.select(_deliveries).where(
                _deliveries.c.reminder_id.in_(list(found))).order_by(_deliveries.c.id)).mappings():
            found[d["reminder_id"]].append(d)
        yield [(r, found[r["id"]]) for r in rows]


def _wire(mime) -> str | None:
    """The wire form as the payload keeps it: text, when it is 7-bit (it is, as planned)."""
    if mime is None:
        return None
    try:
        return bytes(mime).decode("ascii")
    except UnicodeDecodeError:  # built again when sent, from the subject and bodies
        return None


def _missing(bind, reminder, call_task: int | None) -> None:
    """The deliveries of a reminder that has none, from its channel string (as 0014)."""
    status = "needs_attention" if reminder["status"] == "given_up" else reminder["status"]
    channels = [c for c in dict.fromkeys((reminder["channel"] or "email").split(",")) if c]
    if reminder["letter_file"] and "letter" not in channels:
        channels.append("letter")
    for channel in channels:
        row = {"reminder_id": reminder["id"], "channel": channel, "status": status,
               "attempts": reminder["attempts"] or 0, "claimed_at": reminder["claimed_at"],
               "claimed_by": reminder["claimed_by"], "sent_at": None, "proof": None,
               "last_error": None if status == "sent" else reminder["last_error"],
               "payload": None}
        if channel == "phone" and call_task is not None:
            row.update(status="sent", proof=f"call:{call_task}", last_error=None)
        elif status == "sent":
            proof = {"email": reminder["recipient"] and reminder["message_id"],
                     "letter": reminder["letter_file"]}.get(channel)
            row.update(sent_at=reminder["sent_at"], proof=proof or None)
            if not proof:
                row.update(status="skipped",
                           last_error="no address for this channel when it was sent")
        bind.execute(sa.insert(_deliveries), row)


def upgrade() -> None:
    bind = op.get_bind()
    calls = dict(bind.execute(sa.select(_calls.c.reminder_id, _calls.c.id)
                              .where(_calls.c.reminder_id.is_not(None))).all())
    for chunk in _chunks(bind, [_reminders]):
        updates = []
        for reminder, deliveries in chunk:
            if not deliveries:
                _missing(bind, reminder, calls.get(reminder["id"]))
                deliveries = bind.execute(sa.select(_deliveries).where(
                    _deliveries.c.reminder_id == reminder["id"])).mappings().all()
            channels = {d["channel"] for d in deliveries}
            for d in deliveries:
                payload = dict(d["payload"] or {})
                if d["channel"] == "email":
                    payload.update(recipient=reminder["recipient"], subject=reminder["subject"],
                                   body_text=reminder["body_text"],
                                   body_html=reminder["body_html"], wire=_wire(reminder["mime"]))
                    if "letter" not in channels and reminder["letter_html"] is not None:
                        payload["letter_html"] = reminder["letter_html"]
                elif d["channel"] == "letter":
                    payload.update(letter_html=reminder["letter_html"],
                                   subject=reminder["subject"], body_text=reminder["body_text"])
                else:
                    continue
                updates.append({"delivery_id": d["id"], "new_payload": payload})
        if updates:
            bind.execute(_SET_PAYLOAD, updates)
    with op.batch_alter_table("reminders", recreate="never") as batch:
        for column in _CONTENT:
            batch.drop_column(column)


def downgrade() -> None:
    bind = op.get_bind()
    # "never": a plain ALTER TABLE on SQLite too (3.35+), as 0006 does; NOT NULL columns
    # come with a default for the rows already there, filled below.
    with op.batch_alter_table("reminders", recreate="never") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False,
                                   server_default="email"))
        batch.add_column(sa.Column("recipient", sa.String(320), nullable=True))
        batch.add_column(sa.Column("subject", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("body_text", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("body_html", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("mime", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("letter_html", sa.Text(), nullable=True))
        batch.add_column(sa.Column("letter_file", sa.String(500), nullable=True))
    restore = (sa.update(_reminders).where(_reminders.c.id == sa.bindparam("reminder_id"))
               .values({c: sa.bindparam(f"new_{c}") for c in _CONTENT}))
    for chunk in _chunks(bind, [_reminders.c.id]):
        rows, emptied = [], []
        for reminder, deliveries in chunk:
            payloads = {d["channel"]: d["payload"] or {} for d in deliveries}
            email, letter = payloads.get("email", {}), payloads.get("letter", {})
            words = email or letter
            wire = email.get("wire")
            letter_file = next((d["proof"] for d in deliveries if d["channel"] == "letter"
                                and d["status"] == "sent"), None)
            rows.append({
                "reminder_id": reminder["id"],
                "new_channel": ",".join(dict.fromkeys(d["channel"] for d in deliveries))
                or "email",
                "new_recipient": email.get("recipient"),
                "new_subject": words.get("subject") or "",
                "new_body_text": words.get("body_text") or "",
                "new_body_html": email.get("body_html") or "",
                "new_mime": wire.encode("ascii") if wire else None,
                "new_letter_html": letter.get("letter_html") or email.get("letter_html"),
                "new_letter_file": letter_file})
            emptied += [{"delivery_id": d["id"], "new_payload": None} for d in deliveries
                        if d["channel"] in ("email", "letter") and d["payload"] is not None]
        if rows:
            bind.execute(restore, rows)
        if emptied:
            bind.execute(_SET_PAYLOAD, emptied)
