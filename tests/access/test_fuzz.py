"""Crafted parameters answer 4xx (or the page, ignoring them), never 500.

Every GET view of the URL configuration is driven with hostile values in each of its query
parameters: the parameters are found on the page itself (its forms, and the query strings of
its links, such as the pager's cursors), so a parameter added later is fuzzed too. Ids in the
path go beyond what a database integer holds.
"""

import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.urls import reverse

from .conftest import World
from .test_matrix import ARGS, EXPECTED, QUERY, url_of

pytestmark = pytest.mark.django_db

HOSTILE = [
    "²",  # a digit to str.isdigit(), not to int()
    "².1",
    "\uff11\uff12",  # full-width digits: int() takes them
    "9" * 4000,  # a cursor of thousands of digits
    str(2**63),  # one past the largest BIGINT
    str(2**64),
    "-" + str(2**63 + 1),
    "-1",
    "0",
    "1e309",
    "nan",
    "inf",
    "0x10",
    "1_000",
    "",
    " ",
    "\x00",
    "a\x00b",
    "'; SELECT 1; --",
    "[]",
    "{}",
    "2026-13-45",
    "9999-12-31",
    "0001-01-01",
    "-0001-01-01",
    "99999-01-01",
    "2026-12-02T25:61",
    "x" * 5000,
    "../../etc/passwd",
]
# Sent as they are: bytes that are not UTF-8 (a lone surrogate, an overlong slash, 0xFF).
RAW = ["%ED%A0%80", "%C0%AF", "%FF", "%"]
# Parameters no form on a page may show, but views read.
ALWAYS = {"page", "after", "before", "cursor", "q", "field"}
# Views whose answer is not a page take the parameters of the page that links to them.
PARAMETERS_OF = {"backups:history_export": "backups:history"}
HUGE_IDS = [2**63, 2**64, 10**40]


def get_views() -> list[tuple[str, str]]:
    """(URL name, role) for every view that answers GET, as a role it lets in: a project admin
    where one may, else a site administrator."""
    views = []
    for name, rules in sorted(EXPECTED.items()):
        answers = rules.get("GET")
        if answers is None:
            continue
        role = next((role for role, i in (("admin", 3), ("site_admin", 5)) if answers[i] in (200, 286)), None)
        if role:
            views.append((name, role))
    return views


def parameters_on(html: str) -> set[str]:
    """The names of the page's form fields and of its links' query parameters."""
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html))
    for href in re.findall(r'href="([^"]*\?[^"]*)"', html):
        names |= {key for key, _ in parse_qsl(urlsplit(unescape(href)).query, keep_blank_values=True)}
    return names - {"csrfmiddlewaretoken", "password", "old_password", "new_password1", "new_password2"}


def read(response):
    """The response, with a streamed body read to its end: a CSV export fails while it streams."""
    if response.streaming:
        b"".join(response.streaming_content)
    return response


@pytest.mark.parametrize(("name", "role"), get_views(), ids=lambda value: str(value))
def test_hostile_query_parameters_never_make_a_500(world: World, name: str, role: str):
    client = world.client(role)
    url = url_of(name, world)
    page = client.get(url_of(PARAMETERS_OF.get(name, name), world))
    assert page.status_code < 500
    names = parameters_on(page.content.decode()) | ALWAYS
    base, _, fixed = url.partition("?")
    failures = []
    for parameter in sorted(names):
        for value in HOSTILE:
            data = dict(parse_qsl(fixed)) | {parameter: value}
            response = read(client.get(base, data))
            if response.status_code >= 500:
                failures.append((parameter, value[:20], response.status_code))
        # Bytes that are not UTF-8, and the same parameter twice with values that disagree.
        for raw in [*RAW, "1&{parameter}=%C2%B2"]:
            query = "&".join(filter(None, [fixed, f"{parameter}={raw.format(parameter=parameter)}"]))
            response = read(client.get(f"{base}?{query}"))
            if response.status_code >= 500:
                failures.append((parameter, raw, response.status_code))
    assert not failures


@pytest.mark.parametrize("name", sorted(ARGS), ids=str)
@pytest.mark.parametrize("huge", HUGE_IDS, ids=lambda n: f"2^{n.bit_length() - 1}")
def test_ids_beyond_a_database_integer_are_not_found(world: World, name: str, huge: int):
    args = [huge for _ in ARGS[name](world)]
    url = reverse(name, args=args) + QUERY.get(name, "")
    client = world.client("site_admin")
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405), (method, response.status_code)
