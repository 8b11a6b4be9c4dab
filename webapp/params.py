"""Numbers read from query strings and cursors, which anyone can craft.

``str.isdigit`` is true for "²" and full-width digits, which ``int`` refuses or takes; a cursor of
thousands of digits overflows a date or a database integer. Only plain ASCII digits that fit
a BIGINT are numbers here.
"""

import re

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_BIGINT = range(-(2**63), 2**63)


def integer(text: str | None) -> int | None:
    """The integer ``text`` spells in ASCII digits, if a BIGINT holds it; else None."""
    if text is None or not _INTEGER.fullmatch(text):
        return None
    number = int(text)
    return number if number in _BIGINT else None
