"""A slow console SMS backend for the chaos run: long enough per message that a worker can be
killed mid-send, and a record of every call so the run can tell which worker is sending and
count the SMS that reached the farmer twice.

Chosen like any backend: ``SMS_BACKEND=benchmarks.sms_backend.SlowConsoleBackend``. Each send
takes ``SLOW_SMS_SECONDS`` (``0.5,2``: a random time between the two) and appends JSON lines
to ``SMS_OUTBOX_FILE`` (unset: none written): ``calling`` when the worker calls the provider,
``accepted`` at a random moment during the call (the provider has it: the farmer gets this SMS
whatever happens to the worker next), ``answered`` when the answer is back in the worker.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid

from classifier.sms.backends import ConsoleBackend, Sent


def record(event: str, call: str, body: str) -> None:
    """One line per event, appended in one write (lines from concurrent workers do not mix)."""
    path = os.environ.get("SMS_OUTBOX_FILE")
    if not path:
        return
    line = json.dumps({"event": event, "call": call, "pid": os.getpid(), "at": time.time(), "body": body}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class SlowConsoleBackend(ConsoleBackend):
    """The console backend (logs the number masked) behind a provider call that takes a while."""

    name = "slow-console"

    def send(self, phone: str, body: str) -> Sent:
        low, high = (float(part) for part in os.environ.get("SLOW_SMS_SECONDS", "0.5,2").split(","))
        call, took = uuid.uuid4().hex, random.uniform(low, high)
        accepted_after = random.uniform(0, took)
        record("calling", call, body)
        time.sleep(accepted_after)
        sent = super().send(phone, body)
        record("accepted", call, body)
        time.sleep(took - accepted_after)
        record("answered", call, body)
        return sent
