"""The IANA time zones a person may choose, or their browser may report."""

import functools
import zoneinfo

# Regions of the IANA database offered in the select; the others are aliases kept for history.
_REGIONS = ("Africa", "America", "Antarctica", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")
# In the database, but no place anyone lives: never accepted.
_NOT_ZONES = {"localtime", "Factory"}


@functools.cache
def known_zones() -> frozenset[str]:
    """Every zone name this Python knows (reading them scans the disk: once per process)."""
    return frozenset(zoneinfo.available_timezones() - _NOT_ZONES)


def is_zone(name: str) -> bool:
    return name in known_zones()


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that name, or None for a name that is none (from a cookie: anything)."""
    # Checked before the cache: only real zones are kept, never what a client made up.
    return _zone(name) if is_zone(name) else None


@functools.cache
def _zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


@functools.cache
def grouped_zones() -> list[tuple[str, list[tuple[str, str]]]]:
    """UTC, then the zones by region, as a select's groups: ("Europe", [("Europe/Berlin", "Berlin"), …])."""
    groups: dict[str, list[tuple[str, str]]] = {region: [] for region in _REGIONS}
    for name in sorted(known_zones()):
        region, _, place = name.partition("/")
        if region in groups:
            groups[region].append((name, place.replace("_", " ")))
    return [("UTC", [("UTC", "UTC")]), *((region, zones) for region, zones in groups.items())]
