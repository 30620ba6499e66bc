"""Template tags for the farmer pages."""

from django import template
from django.utils.html import json_script

from webapp.i18n import JS_STRINGS

register = template.Library()


@register.simple_tag
def js_strings():
    """The page scripts' strings in the active language, as a JSON script element (no request)."""
    return json_script({key: str(value) for key, value in JS_STRINGS.items()}, "js-strings")
