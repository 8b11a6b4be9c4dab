"""Numbers read from query strings and cursors, which anyone can craft.

``str.isdigit`` is true for "²" and full-width digits, which ``int`` refuses or takes; a cursor of
thousands of digits overflows a date or a database integer. Only plain ASCII digits that fit
a BIGINT are numbers here.
"""

import re

_INTEGER = re.compile(r"-?[0-9]{1,18}")  # 18 digits always fit in a signed 64-bit integer


def integer(text: str | None) -> int | None:
    """The integer ``text`` spells in ASCII digits, or None for anything else."""
    if text is None or not _INTEGER.fullmatch(text):
        return None
    return int(text)
