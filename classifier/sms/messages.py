"""The text of the verdict SMS: one message of at most 160 plain characters, in the farmer's language.

Non-ASCII characters (curly quotes, accents) would switch the whole message to UCS-2, where one
SMS holds 70 characters, so the text is folded to ASCII. The link is never cut; the answer's name
is shortened when it must be.
"""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from classifier.advice.selectors import advice_for

SMS_LENGTH = 160
_TYPOGRAPHY = str.maketrans({"…": "...", "’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def plain(text: str) -> str:
    """``text`` in characters every phone's default SMS alphabet has."""
    text = text.translate(_TYPOGRAPHY)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def result_url(submission_id) -> str:
    return settings.PUBLIC_URL.rstrip("/") + reverse("submission", args=[submission_id])


def verdict_sms(submission_id, label: str, language: str) -> str:
    """The SMS for an officer's verdict: ``label`` is the class, or empty for an unusable photo."""
    url = result_url(submission_id)
    with translation.override(language):
        if label:
            answer = str(advice_for(label, False, language).title)
            template = _("Leaf doctor: an officer checked your photo: %(answer)s. What to do: %(url)s")
        else:
            answer = ""
            template = _("Leaf doctor: an officer could not use your photo. Please send a new one: %(url)s")
        text = plain(template % {"answer": answer, "url": url})
        if len(text) > SMS_LENGTH and answer:
            room = len(answer) - (len(text) - SMS_LENGTH) - 3
            text = plain(template % {"answer": answer[: max(room, 1)].rstrip() + "...", "url": url})
    if len(text) > SMS_LENGTH:  # a translation too long for one SMS: the link alone still helps
        text = f"Leaf doctor: {url}"
    return text
