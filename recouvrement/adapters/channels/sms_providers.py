"""SMS providers French creditors use, each a small HTTP client: Brevo and OVHcloud.

Why not apprise (installed with Prefect, and with SMS plugins): its
`notify()` answers True or False. The outbox needs more than that from a
provider: the provider's message id (the delivery's proof, for a dossier),
and whether a refusal is for good (a 400 on a number: a person fixes it) or
for now (a 5xx, a timeout: the next run tries again). Neither Brevo nor
OVHcloud takes an idempotency key, so exactly-once is kept on our side
(see `channels/sms.py`); the reference we give (`tag`) is echoed in their
logs, to find a message a crashed run may have sent.

Brevo: POST {url}/v3/transactionalSMS/send, header `api-key`, answers
`{"messageId": ...}`. OVHcloud: POST {url}/sms/{service}/jobs, signed
(`X-Ovh-Signature` = "$1$" + SHA-1 of secret+consumer+method+url+body+time),
answers `{"ids": [...], "invalidReceivers": [...]}`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Protocol

import httpx

from recouvrement.domain.sms import is_gsm7
from recouvrement.adapters.mail.mailer import PermanentSendError, TransientSendError


class ProviderRefused(Exception):
    """The provider refuses the account itself (a wrong key, no credits): no SMS can go
    through it, whoever the recipient. Fixing the settings is the only cure."""


class SmsProvider(Protocol):
    name: str

    def send(self, *, to: str, text: str, reference: str) -> str:
        """Hand the SMS to the provider; return its message id."""
        ...


def _post(url: str, *, timeout: float, headers: dict[str, str], body: bytes) -> dict:
    """POST the body; the answer's JSON, or the error sorted by what it says of the SMS.

    Neither provider takes an idempotency key, so only an error that proves the SMS was
    not taken is retried on its own (no connection made, 429, 503). When the provider may
    have taken it (no answer in time, a dropped connection, another 5xx, a 2xx without a
    message id) the delivery goes to a person (`needs_attention`), with the reference to
    look for in the provider's log: the same demand twice is worse than a late one.
    """
    try:
        response = httpx.post(url, content=body, headers={"Content-Type": "application/json",
                                                          "Accept": "application/json",
                                                          **headers}, timeout=timeout)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientSendError(f"the SMS provider could not be reached: "
                                 f"{type(exc).__name__}: {exc}") from exc
    except httpx.TimeoutException as exc:
        raise PermanentSendError(f"the SMS provider did not answer in {timeout:g} s "
                                 f"({type(exc).__name__}): {MAYBE_SENT}") from exc
    except httpx.HTTPError as exc:
        raise PermanentSendError(f"the connection to the SMS provider broke "
                                 f"({type(exc).__name__}: {exc}): {MAYBE_SENT}") from exc
    said = response.text[:300].replace("\n", " ")
    if response.status_code in (401, 402, 403):
        raise ProviderRefused(f"the SMS provider refused the account ({response.status_code}: "
                              f"{said}): check the key and the credits")
    if response.status_code in (429, 503):
        raise TransientSendError(f"the SMS provider answered {response.status_code}: {said}")
    if response.status_code >= 500:
        raise PermanentSendError(f"the SMS provider answered {response.status_code} "
                                 f"({said}): {MAYBE_SENT}")
    if response.status_code >= 400:
        raise PermanentSendError(f"the SMS provider refused it ({response.status_code}): {said}")
    try:
        return response.json()
    except ValueError as exc:
        raise PermanentSendError(f"the SMS provider's answer is not JSON ({said}): "
                                 f"{MAYBE_SENT}") from exc


MAYBE_SENT = ("it may have taken the SMS; look for its reference in the provider's log "
              "before `recouvrement outbox retry`")


@dataclass(frozen=True)
class Brevo:
    api_key: str
    sender: str
    url: str = "https://api.brevo.com"
    timeout: float = 10.0
    name: str = "brevo"

    def send(self, *, to: str, text: str, reference: str) -> str:
        body = json.dumps({"sender": self.sender, "recipient": to.lstrip("+"), "content": text,
                           "type": "transactional", "tag": reference,
                           "unicodeEnabled": not is_gsm7(text)}).encode("utf-8")
        answer = _post(f"{self.url.rstrip('/')}/v3/transactionalSMS/send", timeout=self.timeout,
                       headers={"api-key": self.api_key}, body=body)
        message_id = answer.get("messageId")
        if message_id is None:
            raise PermanentSendError(f"the SMS provider gave no messageId "
                                     f"({answer!r:.200}): {MAYBE_SENT}")
        return str(message_id)


@dataclass(frozen=True)
class Ovh:
    application_key: str
    application_secret: str
    consumer_key: str
    service: str
    sender: str
    url: str = "https://eu.api.ovh.com/1.0"
    timeout: float = 10.0
    name: str = "ovh"

    def send(self, *, to: str, text: str, reference: str) -> str:
        # Our text carries its own STOP mention (B2C), worded per language.
        body = json.dumps({"message": text, "receivers": [to], "sender": self.sender,
                           "noStopClause": True, "priority": "high", "charset": "UTF-8",
                           "coding": "7bit" if is_gsm7(text) else "8bit",
                           "tag": reference[:20]}).encode("utf-8")
        url = f"{self.url.rstrip('/')}/sms/{self.service}/jobs"
        stamp = str(int(time.time()))
        signed = "+".join([self.application_secret, self.consumer_key, "POST", url,
                           body.decode("utf-8"), stamp])
        answer = _post(url, timeout=self.timeout, body=body, headers={
            "X-Ovh-Application": self.application_key, "X-Ovh-Consumer": self.consumer_key,
            "X-Ovh-Timestamp": stamp,
            "X-Ovh-Signature": "$1$" + hashlib.sha1(signed.encode("utf-8")).hexdigest()})
        if to in (answer.get("invalidReceivers") or []):
            raise PermanentSendError(f"the SMS provider refused the number {to} as invalid")
        ids = answer.get("ids") or []
        if not ids:
            raise TransientSendError(f"the SMS provider gave no job id: {answer!r:.200}")
        return str(ids[0])


def provider_from_settings(settings) -> SmsProvider | None:
    """The configured provider, or None (RECOUVREMENT_SMS_PROVIDER=none: SMS are skipped)."""
    s = settings
    secret = (lambda value: value.get_secret_value() if value is not None else "")
    if s.sms_provider == "brevo":
        return Brevo(api_key=secret(s.sms_api_key), sender=s.sms_sender,
                     url=s.sms_url or Brevo.url, timeout=s.sms_timeout)
    if s.sms_provider == "ovh":
        return Ovh(application_key=s.sms_application_key or "",
                   application_secret=secret(s.sms_api_secret),
                   consumer_key=secret(s.sms_api_key), service=s.sms_service or "",
                   sender=s.sms_sender, url=s.sms_url or Ovh.url, timeout=s.sms_timeout)
    return None
