"""Send what the outbox holds, each reminder claimed, sent and marked in turn.

A reminder goes out by one delivery per channel (`reminder_deliveries`):
e-mail and registered letter here, the phone task and the SMS by their
adapters (`recouvrement/adapters/channels/`). Every step of a delivery is one of the
state table `domain/outbox_states.py`.

A reminder is claimed (planned -> sending), with its deliveries still to
do, in a commit before any outside system is called, and its outcome is
written in the next commit, right after. That next commit also claims the
reminder that follows: one transaction per reminder, and still never more
than the one in flight in `sending`. A reminder left in `sending` by a run
that died is taken up again once its lease has expired: its e-mail goes again
with the same Message-ID, which receiving servers use to drop a duplicate;
its SMS does not (`channels/sms.py`: the provider may have taken it) and
needs attention instead. A delivery that went out is never made again.

Whatever goes wrong with one delivery (its letter cannot be rendered or
written, its e-mail cannot be built, the relay or the provider refuses it)
is that reminder's failure: recorded with the error, and the others go on. A
failure for now is tried again by the next runs, `max_attempts` times in
all (a reminder a dead run left in `sending` counts too); a refusal for good,
or the last try spent, needs attention (`needs_attention`): the run's
report and the audit log say so, and a person takes it from there
(`recouvrement outbox list`, `outbox retry`). Only what concerns every
reminder (the database, the relay as a whole) stops the step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Callable, NamedTuple, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from recouvrement.adapters.audit import Event, record
from recouvrement.domain.events import EventKind
from recouvrement.adapters.db import Database
from recouvrement.adapters.channels import Channel, Deferred, Delivery, Job, Skipped
from recouvrement.adapters.db.models import Debtor, Invoice, Reminder
from recouvrement.queries.deliveries import sent_letter_files
from recouvrement.domain import outbox_states as states
from recouvrement.services.outbox_claims import (_DELIVERIES, _OUTBOX, MAX_ATTEMPTS, Claims, Outcome,
                                        SendReport, claimable, exhausted, given_up_text)
from recouvrement.domain.policy import Level, Policy, load_policy
from recouvrement.adapters.ledger import to_domain_debtor
from recouvrement.adapters.mail.mailer import (Mailer, PermanentSendError, RelayRefused, SendError,
                                      TransientSendError, Wire)
from recouvrement.adapters.mail.letters import PrintQueue, merge_pdfs
from recouvrement.adapters.mail.render import RenderedReminder, build_email, dated, from_line
from recouvrement.adapters.pdf import PdfRenderer
from recouvrement.adapters.shards import Shard, narrow


@dataclass(frozen=True)
class Pacing:
    """How hard the relay is pushed: retries of transient errors, backoff, send rate."""

    retries: int = 3
    backoff_seconds: float = 1.0  # doubles at each retry
    rate_per_second: float = 0.0  # 0: as fast as the relay answers

    def deliver(self, mailer: Mailer, message, sleep: Callable[[float], None] = time.sleep) -> None:
        """Send, retrying only what the relay said might work later (4xx, disconnects)."""
        for attempt in range(self.retries + 1):
            try:
                mailer.send(message)
                return
            except TransientSendError:
                if attempt == self.retries:
                    raise
                sleep(self.backoff_seconds * 2 ** attempt)

    def wait_turn(self, last_sent: float | None) -> float:
        """Keep to the send rate; returns the time of this send."""
        if self.rate_per_second > 0 and last_sent is not None:
            gap = 1 / self.rate_per_second - (time.monotonic() - last_sent)
            if gap > 0:
                time.sleep(gap)
        return time.monotonic()


class MissingLetter(Exception):
    """A letter the reminder must enclose is no longer where it was put."""


class Letter(NamedTuple):
    """A reminder's letter as it goes out: its PDF, the copies it encloses, what it is."""

    document: bytes
    earlier: list[tuple[str, bytes]]
    formal_notice: bool
    registered: bool


@dataclass
class Post:
    """The postal side: letters rendered to PDF and dropped in the print queue.

    Whether a letter is the formal notice (and carries copies of the earlier
    letters) and whether it goes registered is the policy's say, per debtor.
    """

    queue: PrintQueue
    pdf: PdfRenderer
    policy: Policy = field(default_factory=load_policy)

    def step(self, db: Database, row: Reminder) -> Level:
        """The policy's level this reminder was planned at, for its debtor."""
        with db.session() as session:
            debtor = session.get(Debtor, row.debtor_id)
            open_amount = session.scalar(
                select(func.coalesce(func.sum(Invoice.open_amount), 0))
                .where(Invoice.debtor_id == row.debtor_id, Invoice.status == "open"))
            own = self.policy.for_debtor(to_domain_debtor(debtor), Decimal(open_amount))
        try:
            return own.level(row.level)
        except KeyError:
            raise ValueError(f"level {row.level} is no longer in the policy {own.name!r}: "
                             f"whether it is the formal notice, and goes registered, is unknown"
                             ) from None

    def letter(self, db: Database, row: Reminder) -> Letter:
        """The letter's PDF and, for a formal notice, copies of the earlier letters."""
        document = self.pdf.render(row.letter_html)
        step = self.step(db, row)
        earlier = []
        if step.is_formal_notice:
            with db.session() as session:
                files = sent_letter_files(session, row.debtor_id, below_level=row.level)
            # A path the outbox holds is read only inside the print queue: a
            # tampered row must not have a host file mailed as an "earlier letter".
            outside = [f for f in files if not self.queue.holds(Path(f))]
            if outside:
                raise MissingLetter(
                    f"the formal notice must carry a copy of each earlier letter; these are not "
                    f"letters of the print queue {self.queue.folder}: {', '.join(outside)}")
            missing = [f for f in files if not Path(f).is_file()]
            if missing:
                raise MissingLetter(
                    f"the formal notice must carry a copy of each earlier letter; not found in "
                    f"the print queue: {', '.join(missing)} (put it back, then rerun)")
            earlier = [(Path(f).name, Path(f).read_bytes()) for f in files]
        return Letter(document, earlier, step.is_formal_notice, step.registered)


def send_outbox(db: Database, mailer_factory: Callable[[], Mailer], *, today: date, sender: str,
                actor: str, run_id: str | None, lease_minutes: int = 15,
                account: str | None = None, pacing: Pacing = Pacing(),
                post: Post | None = None, shard: Shard | None = None,
                progress: Callable[[int, int], None] | None = None,
                max_attempts: int = MAX_ATTEMPTS,
                is_dead: Callable[[str], bool] | None = None,
                channels: Sequence[Channel] = (), now: Callable[[], datetime] | None = None
                ) -> SendReport:
    """Send every claimable reminder, one delivery per channel: e-mail and letter here, the
    other channels (`channels`: SMS, phone task) by their adapters.

    A reminder the relay refuses for good (5xx, a refused or unusable
    address) goes out as a letter instead, when a print queue is given.
    A relay that refuses the session itself (`RelayRefused`: a wrong password,
    authentication demanded) is nobody's address: sending stops there, the
    reminder in hand is given back as it was, and `RelayRefused` is raised.
    `progress(done, total)` is called as each reminder's outcome is recorded.
    A delivery tried `max_attempts` times without going out needs attention.
    `is_dead(run_id)` tells a run that is provably gone (see `relay_slots`):
    what it left in `sending` is taken up at once rather than after its lease.
    `now()` is the clock (UTC) the adapters are given (an SMS's hours).
    """
    report = SendReport()
    clock = now or (lambda: datetime.now(timezone.utc))
    adapters = {channel.name: channel for channel in channels}
    resumable = {name for name, channel in adapters.items() if channel.resumable}
    last_sent = None
    try:  # what an e-mail planned for today's sender starts with
        sender_line = from_line(sender)
    except ValueError:  # every e-mail is built, and refused, as it goes
        sender_line = None
    lease = timedelta(minutes=lease_minutes)
    if is_dead is not None:
        _release_dead_claims(db, datetime.now(timezone.utc) - lease, is_dead, actor)
    _give_up_exhausted(db, report, lease, max_attempts, actor, account, shard)
    with db.session() as session:
        # The debtor's address of today, not the one of the day it was planned.
        query = (select(Reminder.id, Debtor.account, Debtor.email)
                 .join(Debtor, Debtor.id == Reminder.debtor_id)
                 .where(claimable(datetime.now(timezone.utc) - lease, max_attempts))
                 .order_by(Reminder.id))
        candidates = session.execute(narrow(query, account, shard)).all()
    if not candidates:
        return report
    with mailer_factory() as mailer, Claims(db, run_id, lease, actor, max_attempts,
                                             resumable) as claims:
        for handled, (reminder_id, debtor_account, address) in enumerate(candidates):
            taken = claims.take(reminder_id, debtor_account)  # also marks the one before
            if progress is not None and handled:
                progress(handled, len(candidates))
            if taken is None:
                continue
            row, deliveries = taken
            item = {"account": debtor_account, "level": row.level, "invoices": row.invoice_numbers,
                    "key": row.key}
            if row.status == "cancelled":
                report.cancelled.append({**item, "why": row.last_error})
                continue
            outcome = Outcome(row, item, deliveries, today, max_attempts)
            pending = {d.channel: d for d in deliveries if d.status == states.SENDING}
            address = (address or "").strip() or None
            try:
                last_sent = _by_mail(db, mailer, pacing, last_sent, post, outcome, pending,
                                     address, debtor_account, sender, sender_line, today, report)
            except RelayRefused:  # the relay's settings, not this reminder: change nothing
                claims.release(reminder_id, row, deliveries)
                raise
            job = Job(db, row, debtor_account, today, clock(), outcome.done)
            for channel, delivery in pending.items():
                if channel in ("email", "letter"):
                    continue
                adapter = adapters.get(channel)
                if adapter is None:
                    outcome.skip(delivery, f"the {channel} channel is not set up for this run")
                    continue
                try:
                    outcome.sent(delivery, adapter.deliver(job, delivery))
                except Deferred as exc:
                    outcome.defer(delivery, str(exc))
                except Skipped as exc:
                    outcome.skip(delivery, str(exc))
                except (SendError, ValueError) as exc:
                    outcome.fail(delivery, str(exc), not isinstance(exc, TransientSendError))
                except SQLAlchemyError:
                    raise
                except Exception as exc:  # this delivery's trouble only
                    outcome.fail(delivery, _unexpected(f"its {channel} could not be sent", exc),
                                 False)
            claims.finish_all(outcome, report)
    if progress is not None:
        progress(len(candidates), len(candidates))
    return report


def _by_mail(db: Database, mailer: Mailer, pacing: Pacing, last_sent: float | None,
             post: Post | None, outcome: "Outcome", pending: dict[str, Delivery],
             address: str | None, debtor_account: str, sender: str, sender_line: bytes | None,
             today: date, report: SendReport) -> float | None:
    """The e-mail and the letter of the reminder, as far as they are pending.

    The e-mail carries the letter's PDF when the reminder has both; an e-mail
    refused for good, or with no address to go to, becomes a letter. Nothing
    goes out by mail without the enclosures it must carry.
    """
    row, item, done = outcome.row, outcome.item, outcome.done
    email, letter_d = pending.get("email"), pending.get("letter")
    if email is None and letter_d is None:
        return last_sent
    channels = outcome.channels
    by_email = email is not None and address is not None
    by_post = letter_d is not None or (email is not None and address is None)
    if email is not None:
        readdressed = _readdressed(row, address, channels, done, report, item)
        if readdressed:  # the address it went to; the wire form planned for the old one goes
            outcome.values.update(recipient=address, mime=None)
    mailed = [d for d in (email, letter_d) if d is not None]
    try:
        letter = (post.letter(db, row) if post is not None and "letter" in channels
                  and (letter_d is not None or by_email) else None)
    except MissingLetter as exc:  # nothing goes out without its enclosures
        for d in mailed:
            outcome.fail(d, str(exc), True)
        return last_sent
    except SQLAlchemyError:
        raise  # the database's trouble: every reminder's, the step's
    except Exception as exc:  # this letter's trouble only
        for d in mailed:
            outcome.fail(d, _unexpected("its letter could not be made", exc), False)
        return last_sent
    if by_email:
        try:
            message = _built(row, address, debtor_account, sender, sender_line, letter)
            last_sent = pacing.wait_turn(last_sent)
            pacing.deliver(mailer, message)
            done.update(email=address, message_id=row.message_id)
            outcome.sent(email, row.message_id)
        except RelayRefused:
            raise
        except (SendError, ValueError) as exc:
            permanent = isinstance(exc, (PermanentSendError, ValueError))
            if not (permanent and post is not None):
                outcome.fail(email, str(exc), permanent)
                return last_sent
            by_post = True
            done["switched_to_letter"] = f"the e-mail was refused for good: {exc}"
            report.switched.append({**item, "error": str(exc)})
            outcome.skip(email, f"the e-mail was refused for good, a letter went instead: {exc}",
                         quiet=True)
        except _Unbuildable as exc:
            outcome.fail(email, str(exc), False)
            return last_sent
    elif email is not None:
        outcome.skip(email, done.get("email_cancelled", "the debtor has no e-mail address: "
                                                       "a letter instead"), quiet=True)
    if not by_post:
        return last_sent
    target = letter_d or outcome.add("letter")
    if post is None:
        outcome.fail(target, "a letter is due but no print queue is configured", True)
        return last_sent
    try:
        letter = letter or post.letter(db, row)
    except MissingLetter as exc:
        outcome.fail(target, str(exc), True)
        return last_sent
    except SQLAlchemyError:
        raise
    except Exception as exc:
        outcome.fail(target, _unexpected("its letter could not be made", exc), False)
        return last_sent
    try:
        path = _post(post, db, row, letter, today)
    except SQLAlchemyError:
        raise
    except Exception as exc:
        outcome.fail(target, _unexpected("its letter could not be written to the print queue",
                                         exc), False)
        return last_sent
    outcome.values.update(letter_file=str(path),
                          channel=",".join(dict.fromkeys([*row.channel.split(","), "letter"])))
    done["letter"] = path.name
    outcome.sent(target, str(path))
    report.letters.append({**item, "file": str(path)})
    return last_sent


def channels_from_settings(settings) -> list[Channel]:
    """The adapters of the channels beside e-mail and letter, as the settings set them up."""
    from recouvrement.adapters.channels.phone import PhoneChannel
    from recouvrement.adapters.channels.sms import SmsChannel
    from recouvrement.adapters.channels.sms_providers import provider_from_settings

    return [PhoneChannel(), SmsChannel(provider_from_settings(settings), settings.timezone,
                                       settings.sms_default_country, settings.sms_quiet_hours)]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _release_dead_claims(db: Database, cutoff: datetime, is_dead: Callable[[str], bool],
                         actor: str) -> None:
    """Reminders left in `sending` by runs that died: claimable now, each release audited.

    The reminder may have reached the relay before its run died; it goes again
    under the same Message-ID, as after a lease that ran out.
    """
    with db.session() as session:
        claimers = session.scalars(select(Reminder.claimed_by).distinct().where(
            Reminder.status == "sending", Reminder.claimed_at >= cutoff,
            Reminder.claimed_by.is_not(None))).all()
        dead = [claimer for claimer in claimers if is_dead(claimer)]
        if not dead:
            return
        rows = session.execute(
            select(Reminder.id, Reminder.key, Reminder.claimed_by, Debtor.account)
            .join(Debtor, Debtor.id == Reminder.debtor_id)
            .where(Reminder.status == "sending", Reminder.claimed_by.in_(dead))).all()
        session.execute(update(_OUTBOX).where(_OUTBOX.c.id.in_([r.id for r in rows]),
                                              _OUTBOX.c.status == "sending")
                        .values(claimed_at=_EPOCH))
        record(session, [Event(EventKind.REMINDER_CLAIM_RELEASED, r.account, r.key,
                               {"claimed_by": r.claimed_by,
                                "why": "the run sending it stopped (killed or crashed); "
                                       "sent again with the same Message-ID"})
                         for r in rows], actor)


def _unexpected(what: str, exc: BaseException) -> str:
    return f"{what}: {type(exc).__name__}: {exc}"[:2000]


def _give_up_exhausted(db: Database, report: SendReport, lease: timedelta, max_attempts: int,
                       actor: str, account: str | None, shard: Shard | None) -> None:
    """Give up on the rows with no tries left: failed ones (the limit was lowered, or they are
    older than it) and those a run died on each time it took them (killed, out of memory)."""
    with db.session() as session:
        query = (select(Reminder.id, Reminder.key, Reminder.level, Reminder.invoice_numbers,
                        Reminder.attempts, Reminder.last_error, Reminder.status, Debtor.account)
                 .join(Debtor, Debtor.id == Reminder.debtor_id)
                 .where(exhausted(datetime.now(timezone.utc) - lease, max_attempts))
                 .with_for_update(of=Reminder.__table__))
        events = []
        for row in session.execute(narrow(query, account, shard)).all():
            why = row.last_error if row.status == "failed" else (
                "the run that was sending it stopped before recording what became of it "
                "(killed, out of memory, a crash?)")
            error = given_up_text(why or "it failed", row.attempts, row.key)
            session.execute(update(_DELIVERIES).where(
                _DELIVERIES.c.reminder_id == row.id,
                _DELIVERIES.c.status.in_((*states.CLAIMABLE, states.SENDING)))
                .values(status=states.NEEDS_ATTENTION, last_error=error))
            # Still sent if its e-mail or letter went out (a run died on the SMS beside it).
            found = session.execute(select(_DELIVERIES.c.channel, _DELIVERIES.c.status)
                                    .where(_DELIVERIES.c.reminder_id == row.id)).all()
            status = states.reminder_status(found) if found else states.NEEDS_ATTENTION
            session.execute(update(_OUTBOX).where(_OUTBOX.c.id == row.id,
                                                  _OUTBOX.c.status == row.status)
                            .values(status=status, last_error=error))
            events.append(Event(EventKind.REMINDER_GIVEN_UP, row.account, row.key,
                                {"error": error, "attempts": row.attempts}))
            report.failed.append({"account": row.account, "level": row.level,
                                  "invoices": row.invoice_numbers, "key": row.key,
                                  "error": error, "permanent": True, "given_up": True})
        record(session, events, actor)


class _Unbuildable(Exception):
    """The reminder's e-mail could not be built, for another reason than its address."""


def _built(row: Reminder, to: str, account: str, sender: str, sender_line: bytes | None,
           letter: Letter | None) -> EmailMessage | Wire:
    """`_email`, its unexpected errors made this reminder's (ValueError: an unusable address)."""
    try:
        return _email(row, to, account, sender, sender_line, letter)
    except (ValueError, SQLAlchemyError):
        raise
    except Exception as exc:
        raise _Unbuildable(_unexpected("its e-mail could not be built", exc)) from exc


def _readdressed(row: Reminder, address: str | None, channels: list[str], done: dict[str, Any],
                 report: SendReport, item: dict[str, Any]) -> bool:
    """Whether the debtor's e-mail address changed since the reminder was planned, said in
    its audit entry; an address gone cancels the e-mail, and the letter goes instead."""
    if address == row.recipient or "email" not in channels:
        return False
    if address is None:
        why = "the debtor has no e-mail address any more (a customers export removed it)"
        done["email_cancelled"] = why
        report.switched.append({**item, "error": why})
    else:
        done["address_changed"] = {"planned": row.recipient, "now": address}
    return True


def _email(row: Reminder, to: str, account: str, sender: str, sender_line: bytes | None,
           letter: Letter | None) -> EmailMessage | Wire:
    """The reminder's e-mail, to the debtor's address of today: as planned, or built now
    when a letter goes with it, the address or the sender changed since it was planned,
    or it was planned without one."""
    if (row.mime is not None and letter is None and sender_line is not None
            and to == row.recipient and row.mime.startswith(sender_line)):
        return Wire(parseaddr(sender)[1], (to,), dated(row.mime))
    message = build_email(RenderedReminder(row.subject, row.body_text, row.body_html),
                          sender=sender, to=to, debtor_account=account,
                          level=row.level, invoice_numbers=row.invoice_numbers,
                          message_id=row.message_id)
    if letter is not None:
        _attach(message, row, letter)
    return message


def _attach(message, row: Reminder, letter: Letter) -> None:
    message.add_attachment(letter.document, maintype="application", subtype="pdf",
                           filename=f"{'mise-en-demeure' if letter.formal_notice else 'relance'}.pdf")
    for name, content in letter.earlier:
        message.add_attachment(content, maintype="application", subtype="pdf",
                               filename=f"copie-{name}")


def _post(post: Post, db: Database, row: Reminder, letter: Letter, today: date) -> Path:
    document, earlier = letter.document, letter.earlier
    if earlier:
        document = merge_pdfs([document, *(content for _name, content in earlier)])
    with db.session() as session:
        debtor = session.get(Debtor, row.debtor_id)
    return post.queue.add(day=today, key=row.key, pdf=document, account=debtor.account,
                          name=debtor.name, address=debtor.address, postcode=debtor.postcode,
                          city=debtor.city, country=debtor.country, level=row.level,
                          registered=letter.registered)


