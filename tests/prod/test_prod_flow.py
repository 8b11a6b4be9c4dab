"""The backup flow against the production-like stack of `make prod-local`: gunicorn with DEBUG
off, static files collected and served by whitenoise, a separate worker and beat on PostgreSQL
and Redis, the demo simulator as the cloud. Nothing here touches the database: the browser and
HTTP only, as a user would.

Not part of `make test` (the `prod` marker is deselected by default). CI starts the stack and runs
`make test PYTEST_ARGS="-m prod tests/prod"` with PROD_URL=http://127.0.0.1:8200.
"""

import os
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.support import chromium

pytestmark = pytest.mark.prod

# The demo simulator's jobs take about 45 s; give the whole pipeline (sweep, submit, polls) room.
BACKUP_ENDS_WITHIN_MS = 120_000
# The worker syncs instances when it starts; until then the instance list is empty.
INSTANCES_SYNCED_WITHIN_S = 90


@pytest.fixture
def base_url():
    url = os.environ.get("PROD_URL")
    # Selected with -m prod and no stack to run against: that is a mistake, not a skip.
    assert url, "PROD_URL is not set: start `make prod-local` and set PROD_URL=http://127.0.0.1:8200"
    return url.rstrip("/")


@pytest.fixture
def page(base_url):
    with chromium() as browser:
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800})
        yield context.new_page()
        context.close()


def test_operator_backs_up_an_instance_on_the_production_like_stack(page):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill("demo-console")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".role-chip")).to_have_text("Operator")

    # An Available instance offers a link; a frozen one a disabled button with the reason.
    create = page.get_by_role("link", name="Create backup")
    deadline = time.monotonic() + INSTANCES_SYNCED_WITHIN_S
    page.goto("/instances/")
    while create.count() == 0 and time.monotonic() < deadline:
        time.sleep(2)
        page.reload()
    assert create.count() > 0, "no Available instance was synced from the simulator"
    row = page.locator("tr", has=create).first
    instance_name = row.locator("td").first.inner_text().split("\n")[0].strip()
    row.get_by_role("link", name="Create backup").click()

    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    name = f"prod-flow-{int(time.time())}"
    dialog.get_by_label("Backup name").fill(name)
    expect(dialog.locator("#name-feedback")).to_contain_text("Looks good.")
    dialog.get_by_role("button", name="Create backup").click()
    page.wait_for_url(re.compile(r"/backups/\d+/$"))
    expect(page.locator(".messages")).to_contain_text(f"Backup {name} of {instance_name} requested")
    backup_pk = re.search(r"/backups/(\d+)/$", page.url).group(1)

    # The history row follows the backup to its end: either ending is the cloud's to choose
    # (one in ten demo backups fails), but it must reach one.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="History").click()
    status = page.locator(f"#backup-{backup_pk} td.col-status .status").first
    expect(status).to_have_text(re.compile(r"^(Completed|Failed)$"), timeout=BACKUP_ENDS_WITHIN_MS)
    print(f"\nbackup {name} of {instance_name}: {status.inner_text()}")

    # Static files come from collectstatic's hashed names, cached for good by whitenoise.
    stylesheet = page.locator("link[rel=stylesheet]").first.get_attribute("href")
    assert re.search(r"/static/css/console\.[0-9a-f]{12}\.css$", stylesheet), stylesheet
    answer = page.request.get(stylesheet)
    assert answer.status == 200
    cache_control = answer.headers.get("cache-control", "")
    assert "max-age=315360000" in cache_control, cache_control
    assert "immutable" in cache_control, cache_control
    print(f"{stylesheet}: Cache-Control: {cache_control}")

    # DEBUG is off: an unknown page is the console's own 404, not Django's debug page.
    missing = page.goto("/no-such-page/")
    assert missing.status == 404
    expect(page.locator("#error-title")).to_have_text("Not found")
    body = page.content()
    assert "Using the URLconf" not in body
    assert "DEBUG = True" not in body
