"""The API tokens page: everyone makes, sees and revokes their own tokens; a new token's secret
is in the one answer that made it, and stored only as its hash."""

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from access.models import AuditEvent
from api.models import ApiToken
from api.services.tokens import token_create, token_revoke
from tests.access.conftest import HTMX, World, text

URL = reverse("tokens:list")
SECRET = re.compile(r"gdbc_[A-Za-z0-9_-]{43}")


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make(world: World, who="operator", role="viewer", name="ci", projects=None, **options) -> ApiToken:
    user = world.users[who]
    return token_create(user=user, name=name, role=role, projects=projects or [world.project], **options)[0]


def create(client, **fields):
    data = {"name": "deploy pipeline", "role": "operator", "expires_in_days": "90", **fields}
    return client.post(URL, data)


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_empty_list_says_what_tokens_are_for(world):
    page = text(world.client("operator").get(URL))
    assert "You have no API tokens" in page
    assert "Make one below" in page


def test_the_list_shows_only_ones_own_tokens_newest_first_with_their_state(world):
    old = make(world, name="old-revoked")
    token_revoke(token=old, by=world.users["operator"])
    expired = make(world, name="expired-one", expires_in_days=1)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    active = make(world, name="nightly", role="operator")
    make(world, who="admin", name="someone-elses")

    page = text(world.client("operator").get(URL))

    assert "someone-elses" not in page
    assert page.index("nightly") < page.index("expired-one") < page.index("old-revoked")
    assert f"{active.prefix}…" in page
    for state, tone in (("Active", "completed"), ("Expired", "unknown"), ("Revoked", "queued")):
        assert f'<span class="status status-{tone}">{state}</span>' in page
    assert page.count('class="is-gone"') == 2
    assert page.count(">Revoke</button>") == 1  # only the active one can still be revoked
    assert "Never used" in page


def test_the_form_offers_the_projects_one_sees_with_ones_role_there(world):
    page = text(world.client("operator").get(URL))
    assert "eu-de_alpha · you are Operator" in page
    assert "eu-de_bravo" not in page


def test_making_a_token_shows_its_secret_once_and_stores_only_its_hash(world):
    client = world.client("operator")

    response = create(client, projects=[world.project.pk])

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = text(response)
    assert "Copy this token now: it is not shown again" in page
    (secret,) = set(SECRET.findall(page))
    token = ApiToken.objects.get(user=world.users["operator"])
    assert token.token_hash == ApiToken.hash(secret)
    assert secret.startswith(token.prefix)
    assert len(token.prefix) < len(secret)
    assert (token.name, token.role) == ("deploy pipeline", "operator")
    assert list(token.projects.all()) == [world.project]
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert f"export GDBC_TOKEN={secret}" in page
    assert 'curl -H "Authorization: Bearer $GDBC_TOKEN" http://testserver/api/v1/backups' in page
    assert not list(get_messages(response.wsgi_request))
    assert secret not in str(dict(client.session.items()))
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_CREATED, project=world.project).exists()

    later = text(client.get(URL))
    assert secret not in later
    assert token.prefix in later
    assert "Copy this token now" not in later


def test_the_console_url_in_the_example_is_console_url_when_set(world, settings):
    settings.CONSOLE_URL = "https://backups.example.com/"
    page = text(create(world.client("operator"), projects=[world.project.pk]))
    assert "export GDBC_URL=https://backups.example.com\n" in page


def test_no_expiry_is_a_choice(world):
    create(world.client("operator"), projects=[world.project.pk], expires_in_days="never")
    assert ApiToken.objects.get().expires_at is None


def test_a_token_cannot_do_more_than_its_owner(world):
    response = create(world.client("viewer"), projects=[world.project.pk], role="operator")

    assert response.status_code == 200
    assert "A token cannot do more than you: your role in eu-de_alpha is lower than Operator." in text(response)
    assert not ApiToken.objects.exists()
    assert not SECRET.search(text(response))


def test_a_token_needs_a_project_and_a_name(world):
    response = create(world.client("operator"), name=" ")
    page = text(response)
    assert "Choose at least one project." in page
    assert "Give the token a name that says where it is used." in page
    assert page.count('class="field-error"') == 2
    assert not ApiToken.objects.exists()


def test_a_project_one_does_not_see_cannot_be_chosen(world):
    response = create(world.client("operator"), projects=[world.other_project.pk])
    assert "is not one of the available choices" in text(response)
    assert not ApiToken.objects.exists()


def test_someone_in_no_project_is_told_why_they_cannot_make_one(world):
    page = text(world.client("site_admin").get(URL))
    assert "You are not a member of any project yet" in page


def test_revoking_ones_own_token_ends_it_and_is_audited(world):
    token = make(world)
    client = world.client("operator")

    response = client.post(reverse("tokens:revoke", args=[token.pk]))

    assert response.status_code == 302
    assert response["Location"] == URL
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(action=AuditEvent.Action.TOKEN_REVOKED)
    assert (event.actor, event.project) == (world.users["operator"], world.project)
    assert "is revoked" in text(client.get(URL))


def test_revoking_a_revoked_token_again_says_so(world):
    token = make(world)
    client = world.client("operator")
    client.post(reverse("tokens:revoke", args=[token.pk]))
    response = client.post(reverse("tokens:revoke", args=[token.pk]), follow=True)
    assert "was revoked already" in text(response)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.TOKEN_REVOKED).count() == 1


@pytest.mark.parametrize("who", ["admin", "viewer", "site_admin"])
def test_nobody_revokes_someone_elses_token(world, who):
    token = make(world)
    response = world.client(who).post(reverse("tokens:revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.is_usable


def test_revoking_a_token_that_does_not_exist_is_404(world):
    assert world.client("operator").post(reverse("tokens:revoke", args=[987654])).status_code == 404


def test_revoking_with_htmx_answers_the_row(world):
    token = make(world)
    response = world.client("operator").post(reverse("tokens:revoke", args=[token.pk]), **HTMX)

    assert response.status_code == 200
    fragment = text(response).strip()
    assert fragment.startswith(f'<tr id="token-{token.pk}" class="is-gone">')
    assert fragment.endswith("</tr>")
    assert '<span class="status status-queued">Revoked</span>' in fragment
    assert ">Revoke</button>" not in fragment


def test_the_revoke_button_asks_first_and_works_without_javascript(world):
    token = make(world)
    page = text(world.client("operator").get(URL))
    url = reverse("tokens:revoke", args=[token.pk])
    assert f'action="{url}"' in page
    assert f'hx-post="{url}" hx-target="#token-{token.pk}" hx-swap="outerHTML"' in page
    assert 'hx-confirm="Revoke the token ci?' in page


def test_the_list_costs_no_query_per_token(world, django_assert_max_num_queries):
    client = world.client("admin")
    make(world, who="admin", projects=[world.project])
    with django_assert_max_num_queries(100) as few:
        client.get(URL)
    for n in range(10):
        make(world, who="admin", name=f"t{n}", role="operator", projects=[world.project])
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = text(client.get(URL))
    assert page.count('<tr id="token-') == 11
