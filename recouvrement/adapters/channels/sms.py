"""The SMS channel: the text planned with the reminder, to the debtor's mobile of today.

Before the provider is called, in this order: a provider must be configured
(else the SMS is skipped, and says why); the debtor must not have answered
STOP (`recouvrement sms opt-out`); the number must be a mobile one once
normalised to E.164 with the debtor's country (a landline or an invalid
number is skipped with the reason, kept on the delivery); and it must be a
business day between 8:00 and 20:00 in the creditor's time zone (else the
SMS waits for a later run, without spending an attempt).

Exactly once. Neither Brevo nor OVHcloud takes an idempotency key, so a
second call would be a second SMS on the debtor's phone. The delivery is
committed `sending` (claimed, with a lease) before the call, and its outcome
right after; a delivery a dead run left in `sending` is therefore *not*
resent (`resumable = False`): the provider may have taken it. It goes to
`needs_attention` with the reference it was sent under, which the
provider's log shows; a person checks, then `recouvrement outbox retry` (or
leaves it). A late SMS is a nuisance; the same demand twice is a fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import phonenumbers
import pycountry
from phonenumbers import NumberParseException, PhoneNumberType
from sqlalchemy import select

from recouvrement.adapters.channels import Deferred, Delivery, Job, Skipped
from recouvrement.adapters.channels.sms_providers import ProviderRefused, SmsProvider
from recouvrement.adapters.db.models import Debtor, SmsOptOut
from recouvrement.domain.sms import why_not_now
from recouvrement.adapters.mail.mailer import PermanentSendError, TransientSendError

_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class NotAMobile(ValueError):
    """A number no SMS can go to: invalid, or a landline."""


def region_of(country: str | None, default: str = "FR") -> str:
    """The ISO 3166 code of a debtor's country as the export wrote it ("France", "FR", "FRA")."""
    if not country or not country.strip():
        return default
    name = country.strip()
    try:
        found = (pycountry.countries.get(alpha_2=name.upper()) if len(name) == 2 else
                 pycountry.countries.get(alpha_3=name.upper()) if len(name) == 3 else None)
        found = found or pycountry.countries.lookup(name)
    except LookupError:
        return default
    return found.alpha_2


def mobile_number(phone: str | None, country: str | None, default: str = "FR") -> str:
    """The number in E.164 (+33612345678), or NotAMobile saying why no SMS can go to it."""
    if not phone or not phone.strip():
        raise NotAMobile("the debtor has no phone number")
    try:
        number = phonenumbers.parse(phone, region_of(country, default))
    except NumberParseException as exc:
        raise NotAMobile(f"{phone!r} is not a phone number ({exc})") from None
    if not phonenumbers.is_valid_number(number):
        raise NotAMobile(f"{phone!r} is not a valid number in "
                         f"{phonenumbers.region_code_for_number(number) or region_of(country)}")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise NotAMobile(f"{phone!r} is a landline or a service number, not a mobile: "
                         f"no SMS can reach it")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@dataclass
class SmsChannel:
    provider: SmsProvider | None
    timezone: str = "Europe/Paris"
    default_country: str = "FR"
    quiet_hours: bool = True
    name: str = "sms"
    resumable: bool = False  # the provider may have taken it: see the module's docstring
    _refused: str | None = None  # the provider refused the account earlier in this run

    def deliver(self, job: Job, delivery: Delivery) -> str:
        if self.provider is None:
            raise Skipped("no SMS provider is configured (RECOUVREMENT_SMS_PROVIDER): "
                          "the SMS of this level is not sent")
        row = job.reminder
        with job.db.session() as session:
            debtor = session.get(Debtor, row.debtor_id)
            opted_out = session.scalar(select(SmsOptOut.since)
                                       .where(SmsOptOut.debtor_id == row.debtor_id))
            phone, country = debtor.phone, debtor.country
        if opted_out is not None:
            raise Skipped(f"the debtor answered STOP (opted out on {opted_out.date().isoformat()}):"
                          f" never texted until `recouvrement sms opt-in {job.account}`")
        try:
            to = mobile_number(phone, country, self.default_country)
        except NotAMobile as exc:
            raise Skipped(str(exc)) from None
        wait = why_not_now(job.now.astimezone(ZoneInfo(self.timezone))) \
            if self.quiet_hours else None
        if wait is not None:
            raise Deferred(wait)
        if self._refused is not None:
            raise Deferred(self._refused)
        text = (delivery.payload or {}).get("text")
        if not text:
            raise PermanentSendError("the SMS was planned without a text")
        reference = sms_reference(row.key)
        try:
            message_id = self.provider.send(to=to, text=text, reference=reference)
        except ProviderRefused as exc:
            # The run fails on this one (exit 1, a person sees it); the others of the run
            # wait without calling a provider that refuses every one of them.
            self._refused = f"not tried: {exc}"
            raise TransientSendError(str(exc)) from None
        job.details["sms"] = {"to": to, "reference": reference, "provider": self.provider.name}
        return f"{self.provider.name}:{message_id}"


def sms_reference(key: str) -> str:
    """The reference an SMS goes under, found in the provider's log (its `tag`)."""
    return f"rec-{key[:16]}"
