"""The phone channel: a task in the collectors' worklist (`recouvrement calls`).

The task is made in the transaction that plans its reminder (`create_call_task`, here), so
its delivery is recorded `sent` then, with the task as proof. The adapter
only makes the task of a reminder planned before that (or by hand), once:
the task is keyed by its reminder.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from recouvrement.adapters.channels import Delivery, Job
from recouvrement.adapters.db.models import CallTask
from recouvrement.domain.calls import OPEN


def create_call_task(session: Session, *, reminder_id: int, debtor_id: int, level: int,
                     today: date) -> int:
    """The phone task of a reminder just planned, due the same day."""
    return session.scalar(insert(CallTask).returning(CallTask.id), {
        "debtor_id": debtor_id, "reminder_id": reminder_id, "level": level, "created_on": today,
        "due_on": today, "status": OPEN})


class PhoneChannel:
    name = "phone"
    resumable = True  # a task is a row keyed by its reminder: making it twice makes one

    def deliver(self, job: Job, delivery: Delivery) -> str:
        row = job.reminder
        with job.db.session() as session:
            task = session.scalar(select(CallTask.id).where(CallTask.reminder_id == row.id))
            if task is None:
                task = create_call_task(session, reminder_id=row.id, debtor_id=row.debtor_id,
                                        level=row.level, today=job.today)
        job.details["call_task"] = task
        return f"call:{task}"
