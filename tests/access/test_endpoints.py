"""Endpoint fields cannot make the console call inside its own network (webapp/outbound.py).

The connect form takes a scheme and a host (and port) only, https only, and a host that
resolves to public addresses only; what it refuses it says in a field error. A failing endpoint
is described in our words on the connect and credentials pages, never with the text it answered.
The suite allows 127.0.0.1 (the simulator's host); tests of the refusals take that away.
"""

import pytest
from django.urls import reverse

from access.forms import ProjectConnectForm
from tests.cloud.stub import Answer, FakeDNS, StubServer

from .conftest import World, text

pytestmark = pytest.mark.django_db

CONNECT = reverse("access:project_connect")
PUBLIC = "93.184.215.14"  # stands in for a public address; no test connects to it
SECRET = "internal-secret-2718"
ONLY_HOST = "no path, no query (?) and no fragment (#)"
ATTACKS = [
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/?",
    "http://127.0.0.1:6379/#",
    "http://10.0.0.5/admin/reset#",
]


@pytest.fixture
def dns(monkeypatch):
    return FakeDNS(monkeypatch)


@pytest.fixture
def stub():
    server = StubServer()
    yield server
    server.stop()


def form_data(endpoint: str, **changes) -> dict:
    data = {
        "name": "eu-de_new",
        "region": "eu-de",
        "iam_endpoint": endpoint,
        "geminidb_endpoint": endpoint,
        "project_id": "1" * 32,
        "iam_domain": "domain",
        "iam_user": "user",
        "password": "iam-password",
        "admin": "ada",
    }
    return data | changes


def endpoint_errors(url: str) -> tuple[list[str], list[str]]:
    form = ProjectConnectForm(data=form_data(url))
    assert not form.is_valid()
    return form.errors.get("iam_endpoint", []), form.errors.get("geminidb_endpoint", [])


@pytest.mark.parametrize("url", ATTACKS)
def test_an_endpoint_with_a_path_query_or_fragment_is_refused(world: World, url):
    iam, geminidb = endpoint_errors(url)
    assert iam == geminidb
    assert ONLY_HOST in iam[0]


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://169.254.169.254", "Enter an https:// address"),
        ("https://169.254.169.254", "169.254.169.254 resolves to 169.254.169.254, which is not a public address"),
        ("https://10.0.0.5:8443", "10.0.0.5 resolves to 10.0.0.5, which is not a public address"),
        ("https://[::1]", "::1 resolves to ::1, which is not a public address"),
        ("https://user:pw@iam.eu-de.otc.t-systems.com", "without a user name or password"),
        ("https://iam.eu-de.otc.t-systems.com/v3", ONLY_HOST),
        ("ftp://iam.eu-de.otc.t-systems.com", "Enter an https:// address"),
        ("https://iam.eu-de.otc.t-systems.com:0", "The port must be a number"),
        ("https://iam example.com", "without spaces"),
        ("https://ïam.example.com", "xn-- form"),
    ],
)
def test_what_is_refused_is_said_in_the_field(world: World, dns, url, error):
    iam, _ = endpoint_errors(url)
    assert error in iam[0], iam


def test_without_the_allowance_loopback_is_refused(world: World, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    assert "Enter an https:// address" in endpoint_errors("http://127.0.0.1:8001")[0][0]
    assert (
        "127.0.0.1 resolves to 127.0.0.1, which is not a public address" in endpoint_errors("https://127.0.0.1")[0][0]
    )


def test_a_public_name_that_resolves_to_a_private_address_is_refused(world: World, dns):
    dns.names["iam.example.test"] = "10.0.0.5"
    iam, _ = endpoint_errors("https://iam.example.test")
    assert iam == [
        "iam.example.test resolves to 10.0.0.5, which is not a public address: the console calls only public "
        "addresses, unless OUTBOUND_ALLOWED_HOSTS lists the host."
    ]


def test_a_name_that_does_not_resolve_is_refused(world: World, dns):
    dns.names["iam.example.test"] = None
    assert endpoint_errors("https://iam.example.test")[0] == [
        "The host iam.example.test cannot be found: check the name."
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "https://iam.eu-de.otc.t-systems.com",
        "https://iam.eu-de.otc.t-systems.com/",
        "HTTPS://IAM.eu-de.otc.t-systems.com:443",
        " iam.eu-de.otc.t-systems.com ",
    ],
)
def test_the_cloud_endpoint_is_accepted_as_scheme_and_host(world: World, dns, typed):
    dns.names["iam.eu-de.otc.t-systems.com"] = PUBLIC
    form = ProjectConnectForm(data=form_data(typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["iam_endpoint"] == "https://iam.eu-de.otc.t-systems.com"


def test_an_allowed_host_keeps_its_port_and_may_be_plain_http(world: World, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = ["127.0.0.1"]
    form = ProjectConnectForm(data=form_data("http://127.0.0.1:8001/"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["iam_endpoint"] == "http://127.0.0.1:8001"


def test_demo_mode_allows_the_simulators_host_only(world: World, settings):
    settings.OUTBOUND_ALLOWED_HOSTS = []
    settings.DEMO_MODE, settings.GEMINIDB_SIMULATOR_URL = True, "http://localhost:8001"
    assert ProjectConnectForm(data=form_data("http://localhost:8001")).is_valid()
    assert "Enter an https:// address" in endpoint_errors("http://127.0.0.1:8001")[0][0]


def test_the_connect_page_refuses_an_attack_url_without_calling_it(world: World, stub):
    attack = f"http://127.0.0.1:{stub.port}/admin/reset#"
    response = world.client("site_admin").post(CONNECT, form_data(attack))
    html = text(response)
    assert response.status_code == 200
    assert ONLY_HOST in html
    assert stub.requests == []


@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, f"<html><pre>{SECRET}</pre></html>".encode(), {"Content-Type": "text/html"}, reason=SECRET),
        Answer(200, f"<html><body>{SECRET}</body></html>".encode(), {"Content-Type": "text/html"}),
        Answer.json(403, {"error_msg": SECRET, "request_id": SECRET}),
        Answer.json(401, {"error": {"message": SECRET}}),
    ],
    ids=["html-500", "html-200", "json-403", "json-401"],
)
def test_the_connect_page_shows_our_words_never_the_endpoints(world: World, stub, answer):
    stub.always(answer)
    response = world.client("site_admin").post(CONNECT, form_data(stub.url))
    html = text(response)
    assert "without an error message from the cloud" in html
    assert "Nothing was saved." in html
    assert SECRET not in html


def test_the_connect_page_refuses_a_redirect_and_says_so(world: World, stub):
    elsewhere = StubServer()
    try:
        stub.always(Answer(307, headers={"Location": f"{elsewhere.url}/v3/auth/tokens"}))
        html = text(world.client("site_admin").post(CONNECT, form_data(stub.url)))
    finally:
        elsewhere.stop()
    assert (
        f"The IAM endpoint {stub.url} cannot be used: the endpoint answered with a redirect, which the console "
        "never follows. Check the address. Nothing was saved."
    ) in html
    assert elsewhere.requests == []


def test_the_credentials_page_refuses_a_stored_endpoint_the_rules_now_refuse(world: World, stub, settings):
    """A project saved before these rules, pointing inside: the new password goes nowhere."""
    project = world.project
    project.iam_endpoint = project.geminidb_endpoint = f"{stub.url}/internal/path?"
    project.save()
    settings.OUTBOUND_ALLOWED_HOSTS = []
    credentials = reverse("access:project_credentials", args=[project.pk])
    data = {"iam_domain": "domain", "iam_user": "user", "password": "new-iam-password"}

    html = text(world.client("admin").post(credentials, data))

    assert "plain http:// to 127.0.0.1 is refused" in html
    assert "Nothing was saved." in html
    assert stub.requests == []
