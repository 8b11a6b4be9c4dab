"""A webhook URL a person types: a whole https:// URL to a public address, with no user name
and no fragment, unless OUTBOUND_ALLOWED_HOSTS allows its host (the tests allow 127.0.0.1)."""

import socket

import pytest
from django.core.exceptions import ValidationError

from notifications.validators import check_channel_target, check_webhook_url, target_display

PUBLIC = "93.184.215.14"


@pytest.fixture
def dns(monkeypatch):
    """Names resolve to what the test says, without the network."""
    answers = {"hooks.slack.com": PUBLIC, "inside.example.com": "10.0.0.5"}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror("unknown")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.slack.com/services/T000/B000/XXXX",
        "https://hooks.slack.com:8443/hook?api-version=2016-06-01&sig=abc",
        "http://127.0.0.1:8123/hook",  # allowed in the tests' settings
    ],
)
def test_public_https_and_allowed_urls_are_accepted(url, dns):
    assert check_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.slack.com/services/x", "http"),
        ("https://10.0.0.5/hook", "address"),
        ("https://inside.example.com/hook", "address"),
        ("https://169.254.169.254/latest/meta-data", "address"),
        ("https://[::1]/hook", "address"),
        ("https://100.64.0.1/hook", "address"),
        ("https://user:pw@hooks.slack.com/services/x", "user"),
        ("https://hooks.slack.com/services/x#frag", "fragment"),
        ("ftp://hooks.slack.com/x", "scheme"),
        ("hooks.slack.com/services/x", "scheme"),
        ("https://hooks.slack.com/a b", "characters"),
        ("https://nowhere.invalid/hook", "dns"),
    ],
)
def test_unsafe_urls_are_refused(url, code, dns):
    with pytest.raises(ValidationError) as refused:
        check_webhook_url(url)
    assert refused.value.code == code


def test_loopback_is_refused_without_the_allowance(dns, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    for url in ("http://127.0.0.1:8123/hook", "https://127.0.0.1/hook", "https://localhost/hook"):
        with pytest.raises(ValidationError):
            check_webhook_url(url)


def test_email_targets_and_what_pages_show(dns):
    assert check_channel_target("email", " oncall@example.com ") == "oncall@example.com"
    with pytest.raises(ValidationError):
        check_channel_target("email", "not an address")
    assert target_display("slack", "https://hooks.slack.com/services/T000/B000/XXXX") == "hooks.slack.com"
    assert target_display("email", "oncall@example.com") == "oncall@example.com"
