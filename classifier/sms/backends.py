"""Ways to send one SMS, chosen by ``settings.SMS_BACKEND`` (a dotted path).

- ``ConsoleBackend`` (the default, and ``make run``'s): writes the message to the log and keeps it
  in ``ConsoleBackend.outbox`` of the process that sent it.
- ``AfricasTalkingBackend``: the official ``africastalking`` SDK. Username, API key and sender id
  come from the environment; the username ``sandbox`` talks to Africa's Talking's sandbox.

A backend raises ``PermanentSmsError`` when sending again cannot help (a number the provider
refuses) and ``TemporarySmsError`` (or any other exception) when it may (network, provider down).
``SmsConfigurationError`` (missing credentials, a backend that cannot be imported) is no number's
fault: messages wait until the configuration is fixed, and ``/healthz`` and the admin say why.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from classifier.sms.numbers import masked

logger = logging.getLogger(__name__)


class PermanentSmsError(Exception):
    """The provider refused this message for good (bad number, blacklisted...): do not retry."""


class TemporarySmsError(Exception):
    """The message may go later (network, provider busy): retry with backoff."""


class SmsConfigurationError(Exception):
    """The service cannot send any SMS as configured: keep every message waiting, and say so."""


@dataclass(frozen=True)
class Sent:
    provider_message_id: str


class SmsBackend(Protocol):
    name: str

    def send(self, phone: str, body: str) -> Sent:
        """Send ``body`` to ``phone`` (E.164, e.g. ``+256772123456``)."""


class ConsoleBackend:
    """Logs the message instead of sending it (the number masked: logs outlive the numbers'
    erasure); for development and the test suite."""

    name = "console"
    outbox: list[tuple[str, str]] = []
    _numbers = itertools.count(1)

    def send(self, phone: str, body: str) -> Sent:
        logger.info("SMS to %s: %s", masked(phone), body)
        self.outbox.append((phone, body))
        return Sent(f"console-{next(self._numbers)}")


# Africa's Talking per-recipient status codes (their SMS API documentation): 100-102 mean the
# message was accepted; these mean it never will be, whatever the number of tries.
AFRICASTALKING_PERMANENT = {
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    406: "UserInBlacklist",
}
AFRICASTALKING_ACCEPTED = {100, 101, 102}


class AfricasTalkingBackend:
    name = "africastalking"

    def __init__(self) -> None:
        import africastalking

        if not settings.AFRICASTALKING_USERNAME or not settings.AFRICASTALKING_API_KEY:
            raise SmsConfigurationError("Set AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY to send SMS.")
        self.service = africastalking.SMSService(settings.AFRICASTALKING_USERNAME, settings.AFRICASTALKING_API_KEY)
        self.sender_id = settings.AFRICASTALKING_SENDER_ID or None

    def send(self, phone: str, body: str) -> Sent:
        from africastalking.Service import AfricasTalkingException

        try:
            response = self.service.send(body, [phone], sender_id=self.sender_id)
        except ValueError as error:  # the SDK's own check of the number's format (its text holds the number)
            raise PermanentSmsError(f"the SDK refused the number {masked(phone)}") from error
        except AfricasTalkingException as error:  # an HTTP error status: their side, try again later
            raise TemporarySmsError(str(error)[:500]) from error
        recipients = (
            (response or {}).get("SMSMessageData", {}).get("Recipients", []) if isinstance(response, dict) else []
        )
        if not recipients:
            message = response.get("SMSMessageData", {}).get("Message", "") if isinstance(response, dict) else response
            raise TemporarySmsError(f"no recipient in the answer: {str(message)[:300]}")
        recipient = recipients[0]
        code = int(recipient.get("statusCode", 0))
        if code in AFRICASTALKING_ACCEPTED:
            return Sent(str(recipient.get("messageId", "")))
        detail = f"{code} {recipient.get('status', '')}".strip()
        if code in AFRICASTALKING_PERMANENT:
            raise PermanentSmsError(detail)
        raise TemporarySmsError(detail)


@cache
def _backend_class(path: str) -> type:
    return import_string(path)


def backend_name() -> str:
    """The short name of the configured backend (``console``, ``africastalking``), without starting it."""
    try:
        return _backend_class(settings.SMS_BACKEND).name
    except ImportError:
        return settings.SMS_BACKEND.rsplit(".", 1)[-1][:100]


def get_backend() -> SmsBackend:
    """The backend ``settings.SMS_BACKEND`` names; raises ``SmsConfigurationError`` if it cannot be
    imported or lacks its settings."""
    try:
        backend_class = _backend_class(settings.SMS_BACKEND)
    except ImportError as error:
        raise SmsConfigurationError(f"SMS_BACKEND {settings.SMS_BACKEND!r} cannot be imported: {error}") from error
    return backend_class()


def configuration_error() -> str:
    """Why no SMS can go as configured, or ``""`` when they can (no network call)."""
    try:
        get_backend()
    except SmsConfigurationError as error:
        return str(error)
    return ""
