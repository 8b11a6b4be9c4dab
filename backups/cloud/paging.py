"""Reading an offset/limit list of the API to its end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def read_pages(
    call: Callable[..., Any],
    path: str,
    key: str,
    params: dict[str, str],
    limit: int,
    expected: tuple[int, ...] = (200,),
) -> Iterator[dict[str, Any]]:
    """Every item of the list at ``path`` (under ``key`` in each answer), fetched with ``call``
    (a session's ``_call``). Lists are newest first, so an item created while paging pushes the
    others down one; the repeat that causes is dropped by id."""
    offset = 0
    seen: set[str] = set()
    while True:
        page = {**params, "offset": str(offset), "limit": str(limit)}
        data = call("GET", path, params=page, expected=expected)
        items = data.get(key) or []
        for item in items:
            if item.get("id") not in seen:
                seen.add(item.get("id"))
                yield item
        offset += len(items)
        total = data.get("total_count")
        if not items or (total is not None and offset >= total) or (total is None and len(items) < limit):
            return
