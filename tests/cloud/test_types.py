"""The typed results parse the example answers printed in the reference pages.

The examples under ``reference/`` are copied from /work/shared/reference/geminidb-api/. Two
are not valid JSON as printed and were mended minimally: in querying_backups_v3.1.rst a
comma is missing before each ``"deletable"``, and in the IAM token page a comma trails
``"password_expires_at"`` (the header lines printed before that body are left out).
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backups.cloud import CloudBackup, CloudCredentials, CreatedBackup, Instance, Job
from backups.cloud.errors import InvalidRequest, error_class, parse_error_body
from backups.cloud.types import format_time, parse_progress, parse_time

# tests/conftest.py resets the cache around every test, and the cache may be a database table.
pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).parent / "reference"


def example(name):
    return json.loads((REFERENCE / name).read_text())


def test_create_backup_example_parses():
    created = CreatedBackup.from_api(example("create_backup_202.json"))

    assert created == CreatedBackup(
        job_id="8061ceaf-b319-4315-9338-7f3de8e26f05", backup_id="646d88d0b03f4fd2ae944ae2a33bcb6ain06"
    )


def test_jobs_example_parses():
    (job,) = [Job.from_api(item) for item in example("jobs_200.json")["jobs"]]

    assert job.id == "6f85e061-04dd-42e7-86d6-d3b1e40aac2e"
    assert job.name == "CreateCassandra"
    assert job.is_running
    assert not job.is_completed
    assert not job.is_failed
    assert job.progress == 14
    assert job.instance_id == "27a045b6bf9e46f691f81366d398cb04in06"
    assert job.instance_name == "nosql-12f5"
    assert job.start_time == datetime(2023, 9, 12, 6, 44, 1, tzinfo=UTC)
    assert job.end_time == datetime(2023, 9, 12, 6, 44, 3, tzinfo=UTC)
    assert job.fail_reason == ""


def test_instances_example_parses():
    first, second = [Instance.from_api(item) for item in example("instances_200.json")["instances"]]

    assert first.id == "8436a91546294036b75931e879882200in06"
    assert first.name == "nno-efa6"
    assert first.status == "normal"
    assert first.is_available
    assert first.mode == "Cluster"
    assert (first.datastore_type, first.datastore_version) == ("cassandra", "3.11")
    assert first.port == 8635
    assert first.created == datetime(2019, 1, 17, 7, 5, 52, tzinfo=UTC)
    assert first.updated == datetime(2019, 1, 17, 7, 5, 47, tzinfo=UTC)
    assert first.actions == ("CREATE",)
    assert (first.backup_keep_days, first.backup_start_time) == (7, "16:00-17:00")
    # The page's second example prints "Cluster" as a status; it parses, and is not available.
    assert second.status == "Cluster"
    assert not second.is_available


def test_backups_example_parses():
    auto, manual = [CloudBackup.from_api(item) for item in example("backups_v3.1_200.json")["backups"]]

    assert auto.type == CloudBackup.AUTO
    assert manual.type == CloudBackup.MANUAL
    assert manual.id == "43e4feaab48f11e89039fa163ebaa7e4br02"
    assert manual.name == "backup-test-2"
    assert manual.description == "backup description"
    assert manual.instance_id == "43e4feaab48f11e89039fa163ebaa7e4br02"
    assert manual.instance_name == "cluster-test"
    assert manual.status == CloudBackup.COMPLETED
    assert manual.is_completed
    assert manual.size_kb == 2803
    assert manual.begin_time == datetime(2019, 5, 27, 3, 38, 51, tzinfo=UTC)
    assert manual.end_time == datetime(2019, 5, 27, 3, 39, 51, tzinfo=UTC)
    assert manual.datastore_version == "3.4"


def test_iam_token_example_expiry_parses():
    token = example("iam_token_201.json")["token"]

    assert parse_time(token["expires_at"]) == datetime(2015, 11, 9, 1, 42, 57, 527363, tzinfo=UTC)


def test_error_example_parses():
    code, message = parse_error_body(example("error_400.json"))

    assert (code, message) == ("DBS.200001", "Parameter error")
    assert error_class(400, code) is InvalidRequest


def test_extra_and_missing_keys_are_tolerated():
    job = Job.from_api({"id": "j1", "status": "Completed", "progress": "", "end_time": "", "new_field": 1})

    assert job.is_completed
    assert job.progress is None
    assert job.end_time is None
    assert job.start_time is None
    assert job.instance_id == ""
    assert job.fail_reason == ""
    assert CloudBackup.from_api({"id": "b", "size": 0.0, "status": "BUILDING"}).size_kb == 0
    assert Instance.from_api({"id": "i", "port": ""}).port is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-09-12T06:44:01+0000", datetime(2023, 9, 12, 6, 44, 1, tzinfo=UTC)),
        ("2019-01-17T07:05:52", datetime(2019, 1, 17, 7, 5, 52, tzinfo=UTC)),
        ("2018-08-06 10:41:14", datetime(2018, 8, 6, 10, 41, 14, tzinfo=UTC)),
        ("2015-11-09T01:42:57.527363Z", datetime(2015, 11, 9, 1, 42, 57, 527363, tzinfo=UTC)),
        ("2023-09-12T08:44:01+0200", datetime(2023, 9, 12, 6, 44, 1, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_parse_time_gives_aware_utc(text, expected):
    parsed = parse_time(text)

    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset().total_seconds() == 0


def test_format_time_uses_the_pages_query_format():
    assert format_time(datetime(2019, 5, 27, 3, 38, 51, tzinfo=UTC)) == "2019-05-27T03:38:51+0000"


@pytest.mark.parametrize(("text", "expected"), [("45%", 45), ("0%", 0), ("100%", 100), ("", None), (None, None)])
def test_parse_progress(text, expected):
    assert parse_progress(text) == expected


def test_credentials_never_show_the_password():
    credentials = CloudCredentials("https://iam", "https://db", "p1", "dom", "alice", "s3cret-Passw0rd")

    assert "s3cret-Passw0rd" not in repr(credentials)
    assert "s3cret-Passw0rd" not in str(credentials)
    assert "alice" in repr(credentials)
