"""An SMS backend that never answers, so a test can kill a worker while it is sending.

Chosen through the SMS_BACKEND setting (the variable production reads), like any backend. It logs
when it starts, so the test knows the row was claimed and the provider is being called.
"""

from __future__ import annotations

import logging
import time

from classifier.sms.backends import Sent
from classifier.sms.numbers import masked

logger = logging.getLogger(__name__)


class HangingBackend:
    name = "hanging"

    def send(self, phone: str, body: str) -> Sent:
        logger.warning("hanging while sending to %s", masked(phone))
        time.sleep(3600)
        return Sent("never")
