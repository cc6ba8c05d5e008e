"""The phone channel: a task in the collectors' worklist (`recouvrement calls`).

The task is made in the transaction that plans its reminder (calls.py), so
its delivery is recorded `sent` then, with the task as proof. The adapter
only makes the task of a reminder planned before that (or by hand), once:
the task is keyed by its reminder.
"""

from __future__ import annotations

from sqlalchemy import select

from recouvrement.services.calls import create_call_task
from recouvrement.adapters.channels import Delivery, Job
from recouvrement.adapters.db.models import CallTask


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
