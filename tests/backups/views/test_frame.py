"""What every page shares: sign-in, the header, who may open what, error pages, and a
strict-CSP-friendly page (local assets, no inline script or style)."""

import re

import pytest
from django.urls import reverse

from tests.factories import BackupFactory, MembershipFactory, UserFactory
from tests.helpers import HTMX, signed_in, text

pytestmark = pytest.mark.django_db


@pytest.fixture
def backup(instance):
    return BackupFactory(instance=instance, running=True)


def page_urls(instance, backup):
    return {
        "overview": reverse("backups:overview"),
        "instances": reverse("backups:instances"),
        "history": reverse("backups:history"),
        "create": reverse("backups:backup_create", args=[instance.pk]),
        "detail": reverse("backups:backup_detail", args=[backup.pk]),
        "live": f"{reverse('backups:history_live')}?live={backup.pk}.unseen",
        "export": reverse("backups:history_export"),
        "running": reverse("backups:overview_running"),
    }


# Who gets what, per page: members see, operators act, outsiders are told nothing exists.
EXPECTED = {
    #              operator viewer outsider
    "overview": (200, 200, 200),
    "instances": (200, 200, 200),
    "history": (200, 200, 200),
    "create": (200, 403, 404),
    "detail": (200, 200, 404),
    "live": (200, 200, 286),  # an outsider's poll names no backup of theirs: it ends
    "export": (200, 200, 200),
    "running": (200, 200, 286),
}


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_each_role_gets_the_right_answer(page, instance, backup, operator, viewer, outsider):
    url = page_urls(instance, backup)[page]
    for user, expected in zip((operator, viewer, outsider), EXPECTED[page], strict=True):
        assert signed_in(user).get(url).status_code == expected, (page, user.username)


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_pages_need_a_signed_in_user(client, page, instance, backup):
    url = page_urls(instance, backup)[page]
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_htmx_request_after_sign_out_sends_the_whole_page_to_sign_in(client, instance, backup):
    url = reverse("backups:history_live") + f"?live={backup.pk}.unseen"
    response = client.get(url, HTTP_HX_CURRENT_URL="http://testserver/history/?status=running", **HTMX)
    assert response.status_code == 200
    assert response["HX-Redirect"] == "/accounts/login/?next=/history/%3Fstatus%3Drunning"


def test_header_names_the_user_and_their_roles(operator_client, operator, other_project):
    html = text(operator_client.get(reverse("backups:overview")))
    assert "Oscar Operator" in html
    assert '<span class="role-chip" title="Operator in eu-de_prod">Operator</span>' in html
    MembershipFactory(user=operator, project=other_project, role="viewer")
    html = text(operator_client.get(reverse("backups:overview")))
    assert 'title="Viewer in eu-de_elsewhere; Operator in eu-de_prod">Viewer, Operator</span>' in html
    assert "Sign out" in html


def test_navigation_marks_the_current_page(operator_client):
    html = text(operator_client.get(reverse("backups:history")))
    assert '<a href="/history/" aria-current="page">History</a>' in html
    assert '<a href="/instances/">Instances</a>' in html


def test_sign_in_page_keeps_the_demo_hint(client, settings):
    settings.DEMO_MODE = True
    html = text(client.get(reverse("login")))
    assert "Sign in" in html
    assert "demo-console" in html
    settings.DEMO_MODE = False
    assert "demo-console" not in text(client.get(reverse("login")))


def test_404_page_is_in_the_console_design(operator_client):
    response = operator_client.get("/backups/987654/")
    assert response.status_code == 404
    html = text(response)
    assert "Not found" in html
    assert 'class="topbar"' in html
    assert "Oscar Operator" in html


def test_403_page_is_in_the_console_design(viewer_client, instance):
    response = viewer_client.get(reverse("backups:backup_create", args=[instance.pk]))
    assert response.status_code == 403
    html = text(response)
    assert "Not allowed" in html
    assert 'class="topbar"' in html
    assert "Creating backups and refreshing from the cloud need the Operator or Admin role." in html


def test_403_page_names_the_role_the_refused_page_needs(operator_client, instance):
    response = operator_client.get(reverse("access:team", args=[instance.project_id]))
    assert response.status_code == 403
    assert "needs the Admin role" in text(response)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


@pytest.mark.parametrize("page", ["overview", "instances", "history", "create", "detail"])
def test_pages_hold_under_a_strict_csp(operator_client, page, instance, backup):
    """No inline script, style attribute, hx-on handler or asset from another host."""
    html = text(operator_client.get(page_urls(instance, backup)[page]))
    assert not INLINE_SCRIPT.search(html)
    assert " style=" not in html
    assert "hx-on" not in html
    assert "js:" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_sign_in_page_has_no_inline_style_either(client):
    html = text(client.get(reverse("login")))
    assert " style=" not in html
    assert not INLINE_SCRIPT.search(html)


def test_user_without_projects_can_still_use_every_list_page(db):
    client = signed_in(UserFactory())
    for name in ("backups:overview", "backups:instances", "backups:history"):
        assert client.get(reverse(name)).status_code == 200
