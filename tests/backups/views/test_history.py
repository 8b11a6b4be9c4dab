"""The history: filters in the URL, keyset pages without COUNT, one live poll per page
(the CSV export: test_export.py)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from backups.models import Backup
from backups.selectors.history import Cursor
from tests.factories import BackupFactory, InstanceFactory, UserFactory
from tests.helpers import HTMX, is_fragment, text

pytestmark = pytest.mark.django_db

HISTORY = reverse("backups:history")
OPTIONS = reverse("backups:history_instance_options")
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def shown(response) -> list[str]:
    """Backup names on the page, in order."""
    return [b.name for b in response.context["page"].backups]


def test_history_lists_backups_newest_first_with_their_columns(operator_client, instance, operator):
    BackupFactory(instance=instance, name="older-one", requested_at=T0, requested_by=operator, size_kb=3 * 1024 * 1024)
    BackupFactory(instance=instance, name="newer-one", requested_at=T0 + timedelta(hours=1), automated=True)
    response = operator_client.get(HISTORY)
    assert response.status_code == 200
    assert shown(response) == ["newer-one", "older-one"]
    html = text(response)
    for expected in ("orders-prod", "Oscar Operator", "Automated", "3.0 GB", "4 min 00 s", "status-completed"):
        assert expected in html
    assert 'title="2026-05-01 12:00:05 UTC"' in html  # exact time on hover


def test_history_hides_other_projects_backups(operator_client, other_project):
    BackupFactory(instance=InstanceFactory(project=other_project), name="not-yours")
    response = operator_client.get(HISTORY)
    assert shown(response) == []
    assert "No backups yet." in text(response)


def test_filters_combine_and_stay_in_the_form(operator_client, project, operator, admin):
    orders, users = InstanceFactory(project=project, name="orders"), InstanceFactory(project=project, name="users")
    BackupFactory(instance=orders, name="match-me", requested_by=operator, status="failed", requested_at=T0)
    BackupFactory(instance=orders, name="match-not-person", requested_by=admin, status="failed", requested_at=T0)
    BackupFactory(instance=orders, name="match-not-status", requested_by=operator, requested_at=T0)
    BackupFactory(instance=users, name="match-not-instance", requested_by=operator, status="failed", requested_at=T0)
    BackupFactory(
        instance=orders,
        name="match-too-old",
        requested_by=operator,
        status="failed",
        requested_at=T0 - timedelta(days=3),
    )
    BackupFactory(instance=orders, name="other-name", requested_by=operator, status="failed", requested_at=T0)
    query = {
        "q": "match",
        "project": project.pk,
        "instance": orders.pk,
        "status": "failed",
        "person": operator.pk,
        "since": "2026-04-30",
        "until": "2026-05-01",
    }
    response = operator_client.get(HISTORY, query)
    assert shown(response) == ["match-me"]
    html = text(response)
    assert 'value="match"' in html
    assert f'<option value="{orders.pk}" selected>' in html
    assert '<option value="failed" selected>' in html
    assert 'value="2026-04-30"' in html


def test_person_filter_finds_automated_and_cloud_console_backups(operator_client, instance):
    BackupFactory(instance=instance, name="auto-one", automated=True)
    BackupFactory(instance=instance, name="console-one", origin=Backup.Origin.CLOUD_MANUAL, requested_by=None)
    BackupFactory(instance=instance, name="ours")
    assert shown(operator_client.get(HISTORY, {"person": "auto"})) == ["auto-one"]
    assert shown(operator_client.get(HISTORY, {"person": "cloud"})) == ["console-one"]
    assert "Cloud console" in text(operator_client.get(HISTORY, {"person": "cloud"}))


def test_an_invalid_filter_is_ignored_and_explained(operator_client, instance):
    BackupFactory(instance=instance, name="still-listed")
    response = operator_client.get(HISTORY, {"status": "exploded", "since": "2026-05-02", "until": "2026-05-01"})
    assert response.status_code == 200
    assert "The end date is before the start date." in text(response)
    assert "Select a valid choice." in text(response)


def test_name_search_ignores_case_and_takes_wildcards_literally(operator_client, instance):
    BackupFactory(instance=instance, name="Orders-Prod-20251202")
    BackupFactory(instance=instance, name="orders_prod_nightly")
    BackupFactory(instance=instance, name="ordersXprod")
    assert shown(operator_client.get(HISTORY, {"q": "orders-PROD"})) == ["Orders-Prod-20251202"]
    # `_` and `%` are what the person typed, not LIKE's wildcards.
    assert shown(operator_client.get(HISTORY, {"q": "s_p"})) == ["orders_prod_nightly"]
    assert shown(operator_client.get(HISTORY, {"q": "%"})) == []


def test_htmx_filtering_returns_only_the_results(operator_client, instance):
    BackupFactory(instance=instance, name="findable")
    response = operator_client.get(HISTORY, {"q": "find"}, **HTMX)
    assert is_fragment(response)
    assert text(response).lstrip().startswith('<div id="history-results"')
    assert "findable" in text(response)
    assert 'href="/history/export.csv?q=find"' in text(response)


def make_history(instance, count, ties_every=3):
    """`count` backups where groups of `ties_every` share one requested_at, in shuffled id order."""
    backups = []
    for n in range(count):
        at = T0 - timedelta(minutes=(n // ties_every))
        backups.append(BackupFactory.build(instance=instance, requested_by=None, requested_at=at, name=f"b{n:04d}"))
    # Insert in an order unrelated to time, so ids and times disagree.
    created = Backup.objects.bulk_create(sorted(backups, key=lambda b: hash(b.name) % 97))
    return sorted(created, key=lambda b: (b.requested_at, b.pk), reverse=True)


def walk(client, params, direction="after", start=None):
    pages, token = [], start
    while True:
        response = client.get(HISTORY, {**params, **({direction: token} if token else {})})
        page = response.context["page"]
        pages.append([b.pk for b in page.backups])
        nxt = page.older if direction == "after" else page.newer
        if nxt is None or len(pages) > 20:
            return pages, response
        token = nxt.encode()


def test_keyset_pages_cover_every_backup_once_with_ties(operator_client, instance):
    expected = [b.pk for b in make_history(instance, 123)]
    pages, _ = walk(operator_client, {})
    assert [len(p) for p in pages] == [50, 50, 23]
    assert [pk for page in pages for pk in page] == expected  # no gap, no duplicate, same order


def test_newer_pages_walk_back_to_the_start(operator_client, instance):
    make_history(instance, 120)
    forward, last = walk(operator_client, {})
    oldest_page = last.context["page"]
    back, _ = walk(operator_client, {}, direction="before", start=oldest_page.newer.encode())
    assert back == forward[-2::-1]


def test_keyset_pages_respect_filters(operator_client, project):
    a, b = InstanceFactory(project=project), InstanceFactory(project=project)
    expected = [x.pk for x in make_history(a, 70)]
    make_history(b, 70)
    pages, _ = walk(operator_client, {"instance": a.pk})
    assert [pk for page in pages for pk in page] == expected


def test_a_garbled_cursor_shows_the_first_page(operator_client, instance):
    BackupFactory(instance=instance, name="first")
    for token in ("nonsense", "12.", "9" * 40 + ".1", "-5.x"):
        assert shown(operator_client.get(HISTORY, {"after": token})) == ["first"]


def test_pages_use_a_row_value_comparison_and_never_count(operator_client, instance):
    make_history(instance, 60)
    first = operator_client.get(HISTORY).context["page"]
    with CaptureQueriesContext(connection) as queries:
        operator_client.get(HISTORY, {"after": first.older.encode()})
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    assert '("backups_backup"."requested_at", "backups_backup"."id") <' in sql
    assert "COUNT(" not in sql.upper()
    assert "OFFSET" not in sql.upper()


@given(
    at=st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9000, 1, 1), timezones=st.just(UTC)),
    pk=st.integers(1, 2**62),
)
def test_cursor_tokens_round_trip(at, pk):
    assert Cursor.decode(Cursor(at, pk).encode()) == Cursor(at, pk)


LIVE = reverse("backups:history_live")
POLL_PASS = re.compile(r'<input type="hidden" id="poll-pass" name="poll" value="([^"]+)"')
LIVE_INPUT = re.compile(r'<input type="hidden" name="live" value="([^"]+)">')


def live_rows(response) -> list[str]:
    """What the page's one poll sends: each active row's `<pk>.<fingerprint>`."""
    return LIVE_INPUT.findall(text(response))


def page_pass(response) -> str:
    """The pass the page polls with (`access.pollpass`)."""
    return POLL_PASS.search(text(response)).group(1)


def poll(client, rows, poll_pass=None):
    return client.get(LIVE, {"live": rows, **({"poll": poll_pass} if poll_pass else {})}, **HTMX)


def test_the_table_polls_once_for_all_its_active_rows(operator_client, instance, project):
    running = [BackupFactory(instance=InstanceFactory(project=project), running=True) for _ in range(3)]
    done = BackupFactory(instance=instance, name="all-done")
    html = text(operator_client.get(HISTORY))
    poll_attributes = f'hx-get="{LIVE}" hx-trigger="every 2s" hx-include="#history-rows, #poll-pass" hx-swap="none"'
    assert f'<tbody id="history-rows" {poll_attributes}>' in html
    assert POLL_PASS.search(html)
    assert html.split("<tbody", 1)[1].count("hx-trigger") == 1  # the table's, not one per row
    assert sorted(row.partition(".")[0] for row in live_rows(operator_client.get(HISTORY))) == sorted(
        str(b.pk) for b in running
    )
    assert f'<tr id="backup-{running[0].pk}" class="is-active">' in html
    assert f'<tr id="backup-{done.pk}">' in html


def test_a_page_with_nothing_active_does_not_poll(operator_client, instance):
    BackupFactory(instance=instance, name="all-done")
    html = text(operator_client.get(HISTORY))
    assert '<tbody id="history-rows">' in html
    assert "hx-trigger" not in html.split('<tbody id="history-rows"', 1)[1]


def test_live_poll_answers_204_while_nothing_shown_changed(operator_client, project, django_assert_num_queries):
    for _ in range(5):
        BackupFactory(instance=InstanceFactory(project=project), running=True)
    page = operator_client.get(HISTORY)
    # What the rows show, nothing else: the user and their projects come from the pass.
    with django_assert_num_queries(1):
        response = poll(operator_client, live_rows(page), page_pass(page))
    assert response.status_code == 204
    assert response.content == b""
    assert not response.templates  # nothing rendered


def test_live_poll_sends_only_the_changed_rows_out_of_band(operator_client, project, django_assert_num_queries):
    backups = [BackupFactory(instance=InstanceFactory(project=project), running=True) for _ in range(50)]
    page = operator_client.get(HISTORY)
    rows, poll_pass = live_rows(page), page_pass(page)
    assert len(rows) == 50
    Backup.objects.filter(pk=backups[7].pk).update(progress=75)
    Backup.objects.filter(pk=backups[30].pk).update(overdue=True)
    # What the rows show now, and the two changed rows to draw.
    with django_assert_num_queries(2):
        response = poll(operator_client, rows, poll_pass)
    assert response.status_code == 200
    assert is_fragment(response)
    html = text(response)
    assert html.count("<tr ") == 2
    assert f'<tr id="backup-{backups[7].pk}" class="is-active" hx-swap-oob="true">' in html
    assert f'<tr id="backup-{backups[30].pk}" class="is-active" hx-swap-oob="true">' in html
    assert 'value="75"' in html
    assert "Overdue" in html
    assert "poll-pass" not in html  # the page's pass is still good
    # The answer carries the rows' new fingerprints: sent back, nothing has changed.
    new = dict(row.split(".") for row in LIVE_INPUT.findall(html))
    rows = [f"{pk}.{new.get(pk, seen)}" for pk, seen in (row.split(".") for row in rows)]
    assert poll(operator_client, rows, poll_pass).status_code == 204


def test_live_poll_stops_with_286_and_each_rows_final_state(operator_client, project):
    first, second = (BackupFactory(instance=InstanceFactory(project=project), running=True) for _ in range(2))
    rows = live_rows(operator_client.get(HISTORY))
    Backup.objects.filter(pk=first.pk).update(
        status="completed", progress=100, size_kb=2048, finished_at=first.started_at + timedelta(minutes=2)
    )
    response = poll(operator_client, rows)
    assert response.status_code == 200  # the second still runs
    assert f'<tr id="backup-{first.pk}" hx-swap-oob="true">' in text(response)
    assert "Completed" in text(response)
    assert "2 min 00 s" in text(response)
    assert 'name="live"' not in text(response)  # a finished row is polled no more
    rows = [row for row in rows if not row.startswith(f"{first.pk}.")]
    Backup.objects.filter(pk=second.pk).update(status="failed", finished_at=second.started_at + timedelta(minutes=1))
    response = poll(operator_client, rows)
    assert response.status_code == 286
    assert f'<tr id="backup-{second.pk}" hx-swap-oob="true">' in text(response)
    assert "Failed" in text(response)
    # A page that missed that answer (a closed laptop) still gets the final row, then nothing.
    assert poll(operator_client, rows).status_code == 286
    assert poll(operator_client, []).status_code == 286


def test_live_poll_never_answers_another_projects_rows(operator_client, outsider_client, instance, other_project):
    ours = BackupFactory(instance=instance, running=True)
    theirs = BackupFactory(instance=InstanceFactory(project=other_project), running=True, name="not-yours")
    response = poll(operator_client, [f"{ours.pk}.unseen", f"{theirs.pk}.unseen"])
    assert response.status_code == 200
    assert f'id="backup-{ours.pk}"' in text(response)
    assert f'id="backup-{theirs.pk}"' not in text(response)
    assert "not-yours" not in text(response)
    # Only another project's ids: nothing of the user's is active, so the poll ends, empty.
    response = poll(outsider_client, [f"{ours.pk}.unseen"])
    assert response.status_code == 286
    assert response.content == b""


@pytest.mark.parametrize(
    "rows",
    [["12"], ["x.abc"], ["-3.abc"], ["0.abc"], ["1.abcdefabcdefabcdef"], ["9" * 40 + ".abc"], ["²."], ["1.a"] * 101],
)
def test_live_poll_refuses_rows_the_page_did_not_write(operator_client, instance, rows):
    BackupFactory(instance=instance, running=True)
    response = poll(operator_client, rows)
    assert response.status_code == 400
    assert "live row" in text(response)


@hypothesis_settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.text(max_size=30), max_size=5))
def test_live_poll_answers_any_input_without_an_error(operator_client, instance, rows):
    assert poll(operator_client, rows).status_code in (204, 286, 200, 400)


@pytest.mark.parametrize("rows", [1, 60])
def test_history_page_makes_a_bounded_number_of_queries(operator_client, project, rows, django_assert_max_num_queries):
    instances = [InstanceFactory(project=project) for _ in range(3)]
    people = [UserFactory() for _ in range(3)]
    for n in range(rows):
        BackupFactory(instance=instances[n % 3], requested_by=people[n % 3], running=n % 7 == 0 and n < 3)
    with django_assert_max_num_queries(8):
        response = operator_client.get(HISTORY)
    assert len(response.context["page"].backups) == min(rows, 50)


def test_date_filter_uses_whole_utc_days(operator_client, instance):
    BackupFactory(instance=instance, name="last-second", requested_at=datetime(2026, 5, 1, 23, 59, 59, tzinfo=UTC))
    BackupFactory(instance=instance, name="next-day", requested_at=datetime(2026, 5, 2, 0, 0, tzinfo=UTC))
    assert shown(operator_client.get(HISTORY, {"until": date(2026, 5, 1).isoformat()})) == ["last-second"]
    assert shown(operator_client.get(HISTORY, {"since": "2026-05-02"})) == ["next-day"]


def select_named(html: str, name: str) -> str:
    start = html.index(f'<select name="{name}"')
    return html[start : html.index("</select>", start)]


def test_instance_filter_offers_only_visible_instances_escaped(operator_client, project, other_project):
    mine = InstanceFactory(project=project, name="<b>orders</b>")
    InstanceFactory(project=project, name="billing")
    InstanceFactory(project=other_project, name="not-yours")
    # The page carries the chosen instance only, and tells the select where the others are.
    select = select_named(text(operator_client.get(HISTORY, {"instance": mine.pk})), "instance")
    assert f'<option value="{mine.pk}" selected>&lt;b&gt;orders&lt;/b&gt; (eu-de_prod)</option>' in select
    assert '<option value="">All instances</option>' in select
    assert "billing" not in select
    assert f'hx-get="{OPTIONS}"' in select
    assert 'hx-trigger="load"' in select
    assert 'id="id_instance"' in select
    # Its own request lists them all, the select's value still selected.
    options = text(operator_client.get(OPTIONS, {"instance": mine.pk}, **HTMX))
    assert options.startswith('<option value="">All instances</option>')
    assert f'<option value="{mine.pk}" selected>&lt;b&gt;orders&lt;/b&gt; (eu-de_prod)</option>' in options
    assert ">billing (eu-de_prod)</option>" in options
    assert "not-yours" not in options


def test_another_projects_instance_is_not_a_valid_filter(operator_client, project, other_project):
    BackupFactory(instance=InstanceFactory(project=other_project, name="not-yours"), name="their-backup")
    theirs = Backup.objects.get(name="their-backup").instance
    response = operator_client.get(HISTORY, {"instance": theirs.pk})
    assert "not-yours" not in text(response)
    assert response.context["form"].errors["instance"]
    assert shown(response) == []


def test_person_filter_lists_the_projects_people(operator_client, project, operator, admin, outsider):
    select = select_named(text(operator_client.get(HISTORY, {"person": admin.pk})), "person")
    assert f'<option value="{admin.pk}" selected>Ada Admin</option>' in select
    assert f'<option value="{operator.pk}">Oscar Operator</option>' in select
    assert "Otto" not in select
    assert '<option value="auto">Automated (cloud policy)</option>' in select


def test_rows_escape_what_the_cloud_named(operator_client, project):
    instance = InstanceFactory(project=project, name="<i>orders</i>")
    BackupFactory(instance=instance, name="<script>x</script>", origin=Backup.Origin.CLOUD_MANUAL, requested_by=None)
    html = text(operator_client.get(HISTORY))
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "&lt;i&gt;orders&lt;/i&gt;" in html
