"""Which numbers the service texts, and how a number appears where people read it.

The one rule that guards the SMS credit and strangers' phones: a number is texted only if it is in
a region the service serves (``SMS_REGIONS``, Uganda by default), and one number rides on at most
``SMS_UPLOADS_PER_NUMBER_PER_DAY`` uploads in 24 hours. The upload form asks
:func:`validate_sms_number`; the sender asks :func:`in_served_region` again before each SMS (a
number stored before the rule, or the regions changed since). Logs get :func:`masked` numbers only:
they outlive the numbers' erasure.
"""

from __future__ import annotations

from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.phonenumber import PhoneNumber

from classifier.sms import selectors


def in_served_region(phone: PhoneNumber | str) -> bool:
    """Whether ``phone`` (E.164 or parsed) belongs to a region in ``SMS_REGIONS``."""
    try:
        number = phone if isinstance(phone, phonenumbers.PhoneNumber) else phonenumbers.parse(str(phone), None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.region_code_for_number(number) in settings.SMS_REGIONS


def validate_sms_number(phone: PhoneNumber) -> None:
    """Refuse a number outside the served regions, or one used on too many uploads today."""
    if not in_served_region(phone):
        raise ValidationError(
            _(
                "We send SMS only to local numbers, like 0772 123456. "
                "Leave it empty: the answer still shows on the result page."
            ),
            code="region",
        )
    since = timezone.now() - timedelta(days=1)
    if selectors.uploads_with_number_since(phone.as_e164, since) >= settings.SMS_UPLOADS_PER_NUMBER_PER_DAY:
        raise ValidationError(
            _("Too many photos with this number today. Leave it empty: the answer still shows on the result page."),
            code="daily_limit",
        )


def masked(phone: str) -> str:
    """``+256772123456`` → ``+256******456``: enough to tell messages apart, not to call anyone."""
    phone = str(phone)
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:4] + "*" * (len(phone) - 7) + phone[-3:]
