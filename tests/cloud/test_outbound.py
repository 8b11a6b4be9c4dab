"""Where the client may connect, checked when each call is made (webapp/outbound.py): only
https:// to public addresses, unless OUTBOUND_ALLOWED_HOSTS lists the host. The tests run with
127.0.0.1 allowed (the Makefile's TEST_ENV), so the simulator works; here the allowance is taken
away, or a name is made to resolve somewhere (FakeDNS), and nothing may reach the servers."""

import ipaddress
from dataclasses import replace

import pytest
from django.core.exceptions import ValidationError

from backups.cloud import CloudUnavailable
from backups.cloud.answers import EndpointRefused
from webapp import outbound

from .stub import FakeDNS, StubServer, fake_cloud, self_signed_certificate, tls_context

PUBLIC = "93.184.215.14"  # stands in for a public address; nothing ever connects to it


@pytest.fixture
def stub():
    server = StubServer()
    server.answer = fake_cloud
    yield server
    server.stop()


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


def at(credentials, url):
    return replace(credentials, iam_endpoint=url, geminidb_endpoint=url)


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://127.0.0.1:{port}", "plain http:// to 127.0.0.1 is refused"),
        ("https://127.0.0.1:{port}", "127.0.0.1 resolves to 127.0.0.1, which is not a public address"),
        ("https://localhost:{port}", "localhost resolves to "),
        ("https://[::1]:{port}", "::1 resolves to ::1, which is not a public address"),
        ("https://[::ffff:127.0.0.1]:{port}", "which is not a public address"),
        ("https://2130706433:{port}", "2130706433 resolves to 127.0.0.1"),
    ],
)
def test_without_the_allowance_loopback_and_plain_http_are_refused_before_connecting(
    make_client, credentials, settings, stub, endpoint, reason
):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    client = make_client(credentials=at(credentials, endpoint.format(port=stub.port)))

    with pytest.raises(EndpointRefused) as raised:
        client.list_instances()

    assert reason in str(raised.value)
    assert not raised.value.retryable
    assert stub.requests == []


def test_the_simulator_itself_is_refused_without_the_allowance(client, settings, simulator):
    settings.OUTBOUND_ALLOWED_HOSTS = []

    with pytest.raises(EndpointRefused):
        client.list_instances()

    assert simulator.counters()["by_kind"].get("token", 0) == 0


@pytest.mark.parametrize("address", ["10.0.0.5", "169.254.169.254", "100.64.0.1", "fd00:ec2::254", "::ffff:10.0.0.5"])
def test_a_name_that_resolves_to_a_private_address_is_refused(make_client, credentials, dns, address):
    dns.names["cloud.example.test"] = address
    client = make_client(credentials=at(credentials, "https://cloud.example.test"))

    with pytest.raises(EndpointRefused) as raised:
        client.list_instances()

    shown = ipaddress.ip_address(address)  # ::ffff:10.0.0.5 reads ::ffff:a00:5
    assert f"cloud.example.test resolves to {shown}, which is not a public address" in str(raised.value)


def test_a_name_checked_when_typed_is_checked_again_when_called(make_client, credentials, dns, stub):
    """DNS rebinding: public when the form checked it, loopback (the stub) by the time the worker calls."""
    dns.names["cloud.example.test"] = PUBLIC
    endpoint = outbound.check_base_url(f"https://cloud.example.test:{stub.port}")
    dns.names["cloud.example.test"] = "127.0.0.1"
    client = make_client(credentials=at(credentials, endpoint))

    with pytest.raises(EndpointRefused):
        client.list_instances()

    assert stub.requests == []


def test_a_stored_endpoint_with_a_path_calls_only_its_host(make_client, credentials, simulator):
    """Projects saved before the form refused paths keep working: the path is dropped, not followed."""
    simulator.add_instance("orders-db")
    stored = f"{simulator.url}/admin/reset?x=1#"
    client = make_client(credentials=at(credentials, stored))

    assert [i.name for i in client.list_instances()] == ["orders-db"]


@pytest.fixture
def loopback_counts_as_public(monkeypatch):
    """127.0.0.1 stands in for a public address, so a name can resolve to a local TLS stub whose
    certificate the client trusts (requests prefers these variables to ``session.verify``)."""
    public = outbound.is_public_address
    monkeypatch.setattr(outbound, "is_public_address", lambda address: address.is_loopback or public(address))
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_https_goes_to_the_checked_address_and_keeps_the_name_for_tls(
    make_client, credentials, dns, tmp_path, loopback_counts_as_public
):
    cert, key = self_signed_certificate(tmp_path, "cloud.example.test")
    server = StubServer(tls=tls_context(cert, key))
    server.answer = fake_cloud
    dns.names["cloud.example.test"] = "127.0.0.1"
    client = make_client(credentials=at(credentials, f"https://cloud.example.test:{server.port}"))
    client.session.verify = str(cert)
    try:
        assert client.list_instances() == []
    finally:
        server.stop()

    # Certificate and SNI checked against the name, while the connection went to the IP the
    # check resolved: the name was looked up once per call, by the check, and urllib3 only
    # ever connected to the address it was given.
    assert [r.headers["Host"] for r in server.requests] == [f"cloud.example.test:{server.port}"] * 2
    assert dns.lookups.count("cloud.example.test") == 2
    assert dns.lookups.count("127.0.0.1") == 2


def test_pinning_keeps_certificate_checks(make_client, credentials, dns, tmp_path, loopback_counts_as_public):
    cert, key = self_signed_certificate(tmp_path, "someone-else.example.test")
    server = StubServer(tls=tls_context(cert, key))
    dns.names["cloud.example.test"] = "127.0.0.1"
    client = make_client(credentials=at(credentials, f"https://cloud.example.test:{server.port}"))
    client.session.verify = str(cert)
    try:
        with pytest.raises(CloudUnavailable):
            client.list_instances()
    finally:
        server.stop()
    assert server.requests == []


NOT_PUBLIC = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind to
    "100.64.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "192.0.0.8",
    "198.18.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fec0::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::a00:5",
    "64:ff9b::a00:5",
    "2002:a00:5::1",
    "2001:db8::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_addresses_that_are_not_public(address):
    assert not outbound.is_public_address(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "80.158.0.1", "2606:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses(address):
    assert outbound.is_public_address(ipaddress.ip_address(address))


def test_check_base_url_refuses_a_name_that_does_not_resolve(dns):
    dns.names["nowhere.example.test"] = None
    with pytest.raises(ValidationError, match="cannot be found"):
        outbound.check_base_url("https://nowhere.example.test")
