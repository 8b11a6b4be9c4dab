"""The time formats the reference pages use, one per API family."""

from __future__ import annotations

from datetime import UTC, datetime


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def api_time(ts: float) -> str:
    """Jobs and backups: "2023-09-12T06:44:01+0000" (querying_tasks_and_details.rst,
    querying_backups_v3.1.rst examples)."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%S+0000")


def instance_time(ts: float) -> str:
    """Instance created/updated: "2019-01-17T07:05:52", no zone (querying_instances_and_details.rst)."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%S")


def create_time(ts: float) -> str:
    """The create-instance answer's "created": "2019-10-28 14:10:54" (creating_an_instance.rst)."""
    return _utc(ts).strftime("%Y-%m-%d %H:%M:%S")


def iam_time(ts: float) -> str:
    """IAM token times: "2015-11-09T01:42:57.527363Z" (the IAM page's example response)."""
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_query_time(text: str) -> float:
    """Parse a "yyyy-mm-ddThh:mm:ssZ" query parameter, where Z is "Z" or an offset like +0000.

    The reference's own URI examples put "+0000" into the query string unencoded, which
    decodes to a space; that space is read back as the "+" it was meant to be.
    Raises ValueError for anything else.
    """
    text = text.replace(" ", "+")
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S%z").timestamp()
