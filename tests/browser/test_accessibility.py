"""axe-core over every page of the console, in both themes and both languages: no serious or
critical violation of WCAG 2.1 A/AA (or of axe's best practices) anywhere, and enough contrast
for what axe does not measure (control borders, focus rings, disabled buttons, progress bars).

One browser; per theme and language one context, signed in as a project's Admin (who sees every
page), visiting the pages in turn. axe-core comes from node_modules (package-lock.json), added to
each page as Playwright's init script, so the console's strict CSP stays on.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from access.models import CloudProject, Membership
from backups import timeline
from backups.models import Backup
from backups.services.sync import backups_import, instances_sync
from notifications.models import Channel
from restores.models import Restore, RestoreEvent
from tests.factories import BackupEventFactory, BackupFactory, MembershipFactory, UserFactory

from .support import (
    BLOCKING,
    LANGUAGES,
    THEMES,
    axe_source,
    axe_violations,
    describe,
    show_theme,
    sign_in,
    ui_contrast_problems,
)
from .test_backup_flow import DESKTOP, PASSWORD, browser  # noqa: F401

# Written as the console writes it: a code and its values, in words in the viewer's language.
REQUESTED_BY_ADA = timeline.line(timeline.REQUESTED, who="Ada Admin")._asdict()

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# The README's pictures of the German and the dark console (language, theme, page: file name),
# kept when SCREENSHOTS_DIR is set: SCREENSHOTS_DIR=docs/screenshots make test PYTEST_ARGS=<this file>.
README_SCREENSHOTS = {
    ("de", "light", "overview"): "overview-de",
    ("de", "dark", "instances"): "instances-de-dark",
    ("en", "dark", "history"): "history-dark",
    ("de", "dark", "backup detail, failed"): "backup-failed-de-dark",
    ("de", "light", "preferences"): "preferences-de",
}


@pytest.fixture
def lived_in_console(settings, simulator, transactional_db):
    """A project on the simulator with instances, backups that completed and failed, a restore,
    a notification channel, and its Admin; returns the URLs of every page worth checking."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    project = CloudProject.objects.create(name="eu-de_demo", **simulator.project_fields())
    orders = simulator.add_instance("orders-prod")
    simulator.add_instance("payments-prod", status="frozen")
    simulator.add_instance("sessions-cache")
    cloud_backup = simulator.start_automated_backup(orders["id"], seconds=600)
    simulator.finish_backup(cloud_backup["id"])
    instances_sync(project=project)
    backups_import(project=project)
    # A site administrator too, so that connecting a project is open to her.
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", password=PASSWORD, is_superuser=True)
    MembershipFactory(user=admin, project=project, role=Membership.Role.ADMIN)
    MembershipFactory(user=UserFactory(username="oscar"), project=project, role=Membership.Role.OPERATOR)

    instance = project.instances.get(name="orders-prod")
    imported = Backup.objects.get(instance=instance)
    now = timezone.now()
    completed = BackupFactory(instance=instance, requested_by=admin, requested_at=now - timedelta(hours=5))
    failed = BackupFactory(instance=instance, requested_by=admin, requested_at=now - timedelta(hours=2), failed=True)
    BackupFactory(instance=instance, requested_by=admin, requested_at=now - timedelta(minutes=3), running=True)
    for backup in (completed, failed):
        BackupEventFactory(backup=backup, at=backup.requested_at, **REQUESTED_BY_ADA)
    restore = Restore.objects.create(
        project=project,
        backup=imported,
        source_instance=instance,
        target_name="orders-restored",
        requested_by=admin,
        requested_at=now - timedelta(minutes=10),
    )
    RestoreEvent.objects.create(restore=restore, at=restore.requested_at, kind=RestoreEvent.Kind.REQUESTED)
    channel = Channel.objects.create(
        project=project, kind="slack", name="alerts", target="https://hooks.example.com/x", display="hooks.example.com"
    )

    pages = {
        "overview": reverse("backups:overview"),
        "instances": reverse("backups:instances"),
        "instance detail": reverse("backups:instance_detail", args=[instance.pk]),
        "history": reverse("backups:history"),
        "history, filtered": reverse("backups:history") + "?status=failed",
        "backup detail, completed": reverse("backups:backup_detail", args=[completed.pk]),
        "backup detail, failed": reverse("backups:backup_detail", args=[failed.pk]),
        "restore form": reverse("restores:restore_create", args=[imported.pk]),
        "restore": reverse("restores:restore_detail", args=[restore.pk]),
        "team": reverse("access:team", args=[project.pk]),
        "projects": reverse("access:project_list"),
        "connect project": reverse("access:project_connect"),
        "project credentials": reverse("access:project_credentials", args=[project.pk]),
        "audit": reverse("access:audit"),
        "notification channels": reverse("notifications:channels", args=[project.pk]),
        "notification channel": reverse("notifications:channel_edit", args=[project.pk, channel.pk]),
        "my notifications": reverse("notifications:mine"),
        "API tokens": reverse("tokens:list"),
        "password change": reverse("password_change"),
    }
    pages["preferences"] = reverse("preferences:edit")
    # orders-prod is busy with the running backup: the dialog opens for sessions-cache.
    return {"pages": pages, "idle_instance": project.instances.get(name="sessions-cache")}


def test_every_page_passes_axe_in_both_themes_and_languages(browser, live_server, lived_in_console):  # noqa: F811
    axe = axe_source()
    problems = []
    for language, locale in LANGUAGES.items():
        for theme in THEMES:
            # The German browsers are in Frankfurt: their times show in its zone (the console_tz cookie).
            zone = "Europe/Berlin" if language == "de" else "UTC"
            context = browser.new_context(
                viewport=DESKTOP, base_url=live_server.url, locale=locale, color_scheme=theme, timezone_id=zone
            )
            context.add_init_script(script=axe)
            page = context.new_page()
            problems += problems_in_every_page(page, lived_in_console, theme, language)
            context.close()
    assert not problems, f"{len(problems)} serious or critical accessibility problems:\n" + "\n".join(problems)


def problems_in_every_page(page: Page, console: dict, theme: str, language: str) -> list[str]:
    """Sign in and visit every page in `theme`; what axe and the contrast checks find."""
    combination = f"[{theme}, {language}]"
    problems = []

    def check(where: str) -> None:
        for violation in axe_violations(page):
            if violation["impact"] in BLOCKING:
                problems.append(describe(f"{combination} {where}", violation))
        problems.extend(f"{combination} {where}: {problem}" for problem in ui_contrast_problems(page))

    def visit(name: str, url: str, status: int = 200) -> None:
        response = page.goto(url)
        if response.status != status:
            problems.append(f"{combination} {name}: {url} answered {response.status}, not {status}")
        if (lang := page.evaluate("document.documentElement.lang")) != language:
            problems.append(f"{combination} {name}: the page says it is in {lang!r}")
        show_theme(page, theme)
        check(name)
        if (shot := README_SCREENSHOTS.get((language, theme, name))) and (folder := os.environ.get("SCREENSHOTS_DIR")):
            page.screenshot(path=Path(folder) / f"{shot}.png", animations="disabled", caret="hide")

    visit("sign-in", "/accounts/login/")
    sign_in(page, "ada")
    for name, url in console["pages"].items():
        visit(name, url)
    visit("404", "/no-such-page/", status=404)

    # The create-backup dialog, open over the instance list; opened with the keyboard, since
    # after a click the browser shows no focus ring to measure.
    page.goto(reverse("backups:instances"))
    show_theme(page, theme)
    page.locator(f'a[href="{reverse("backups:backup_create", args=[console["idle_instance"].pk])}"]').first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("dialog[open] form")).to_be_visible()
    check("create-backup dialog")
    return problems
