"""Telling a database that cannot answer from one that refused a query's values.

Only the first is "busy for a moment, try again" (``webapp.middleware.database``). SQLite runs the
functions Django gives it (``REGEXP``, date parts) in Python, and when one raises on its argument
(an invalid regular expression from a query string, say) SQLite reports only an
``OperationalError`` with this fixed text, the class it also uses for a locked or missing file.
"""

from __future__ import annotations

from django.db import DataError, InterfaceError, OperationalError

SQLITE_FUNCTION_FAILED = "user-defined function raised exception"


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the database could not answer (down, locked, out of connections)."""
    return isinstance(error, OperationalError | InterfaceError) and SQLITE_FUNCTION_FAILED not in str(error)


def is_refused_value(error: BaseException) -> bool:
    """Whether ``error`` is a value from the request that Django could not turn into SQL (a year past
    9999, a number past 64 bits) or that the database refused (an invalid regular expression)."""
    if isinstance(error, OperationalError):
        return SQLITE_FUNCTION_FAILED in str(error)
    return isinstance(error, OverflowError | ValueError | DataError)
