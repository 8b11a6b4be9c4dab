"""The restore types read and write the shapes the reference pages print.

creating_an_instance.rst (request and 202 examples), querying_instances_and_details.rst
(``reference/instances_200.json``) and querying_the_time_window_when_a_backup_can_be_restored.rst.
"""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backups.cloud import CreatedInstance, Instance, NewInstance
from backups.cloud.creation import restorable_periods_from_api

REFERENCE = Path(__file__).parent / "reference"

# creating_an_instance.rst, "based on the data of a specified instance at a specified point in
# time" (backup_strategy and ssl_option left out: the console does not send them).
POINT_IN_TIME_EXAMPLE = {
    "name": "test-cassandra-01",
    "datastore": {"type": "cassandra", "version": "3.11", "storage_engine": "rocksDB"},
    "region": "aaa",
    "availability_zone": "bbb",
    "vpc_id": "674e9b42-cd8d-4d25-a2e6-5abcc565b961",
    "subnet_id": "f1df08c5-71d1-406a-aff0-de435a51007",
    "security_group_id": "7aa51dbf-5b63-40db-9724-dad3c4828b58",
    "password": "******",
    "mode": "Cluster",
    "flavor": [{"num": 3, "storage": "ULTRAHIGH", "size": 500, "spec_code": "geminidb.cassandra.4xlarge.4"}],
    "restore_info": {"restore_time": 1607731200000, "source_instance_id": "054e292c9880d4992f02c0196d3ein12"},
}


def _example_new_instance(**changes):
    fields = {
        "name": "test-cassandra-01",
        "password": "******",
        "region": "aaa",
        "availability_zone": "bbb",
        "vpc_id": "674e9b42-cd8d-4d25-a2e6-5abcc565b961",
        "subnet_id": "f1df08c5-71d1-406a-aff0-de435a51007",
        "security_group_id": "7aa51dbf-5b63-40db-9724-dad3c4828b58",
        "spec_code": "geminidb.cassandra.4xlarge.4",
        "node_count": 3,
        "volume_size_gb": 500,
        "restore_source_instance_id": "054e292c9880d4992f02c0196d3ein12",
        "restore_time": datetime(2020, 12, 12, tzinfo=UTC),
    }
    return NewInstance(**{**fields, **changes})


def test_a_point_in_time_restore_is_sent_as_the_pages_example():
    body = _example_new_instance().to_api()

    # The flavor's numbers go as Table 5 types them (String); the example prints numbers.
    flavor = body["flavor"][0]
    assert {**body, "flavor": [{**flavor, "num": int(flavor["num"]), "size": int(flavor["size"])}]} == (
        POINT_IN_TIME_EXAMPLE
    )
    assert flavor["num"] == "3"
    assert flavor["size"] == "500"


def test_a_restore_from_a_backup_sends_only_its_id():
    new = _example_new_instance(restore_source_instance_id=None, restore_time=None, restore_backup_id="2f4ddb93")

    assert new.to_api()["restore_info"] == {"backup_id": "2f4ddb93"}
    assert new.is_restore


def test_an_empty_instance_sends_no_restore_info():
    new = _example_new_instance(restore_source_instance_id=None, restore_time=None)

    assert "restore_info" not in new.to_api()
    assert not new.is_restore


def test_a_naive_restore_time_is_utc():
    new = _example_new_instance(restore_time=datetime(2020, 12, 12))  # naive on purpose

    assert new.to_api()["restore_info"]["restore_time"] == 1607731200000


def test_the_password_is_not_in_repr_or_str():
    new = _example_new_instance(password="Very-Secret-9")

    assert "Very-Secret-9" not in repr(new)
    assert "Very-Secret-9" not in str(new)
    assert new.to_api()["password"] == "Very-Secret-9"


def test_the_create_answer_parses():
    # creating_an_instance.rst, the example response (ids only).
    answer = {"id": "39b6a1a278844ac48119d86512e0000bin06", "job_id": "c010abd0-48cf-4fa8-8cbc-090f093eaa2f"}

    assert CreatedInstance.from_api(answer) == CreatedInstance(
        instance_id="39b6a1a278844ac48119d86512e0000bin06", job_id="c010abd0-48cf-4fa8-8cbc-090f093eaa2f"
    )


def test_the_instance_list_example_gives_what_a_restore_copies():
    data = json.loads((REFERENCE / "instances_200.json").read_text())
    first = Instance.from_api(data["instances"][0])

    assert (first.region, first.availability_zone) == ("aaa", "bbb")
    assert first.vpc_id == "674e9b42-cd8d-4d25-a2e6-5abcc565b961"
    assert first.subnet_id == "f1df08c5-71d1-406a-aff0-de435a51007b"
    assert first.security_group_id == "7aa51dbf-5b63-40db-9724-dad3c4828b58"
    assert (first.spec_code, first.node_count, first.volume_size_gb) == ("geminidb.cassandra.xlarge.4", 3, 100)
    assert first.storage_engine == "rocksDB"


def test_nodes_in_several_azs_give_them_in_order():
    nodes = [{"availability_zone": zone} for zone in ("eu-de-02", "eu-de-01", "eu-de-02", "eu-de-03")]

    instance = Instance.from_api({"groups": [{"volume": {"size": "300"}, "nodes": nodes}]})

    assert instance.availability_zone == "eu-de-02,eu-de-01,eu-de-03"
    assert (instance.node_count, instance.volume_size_gb) == (4, 300)


@pytest.mark.parametrize(
    "groups",
    [None, "groups", [], ["group"], [{"volume": "big", "nodes": "many"}], [{"volume": {"size": "lots"}}]],
)
def test_odd_or_missing_groups_give_unknown_sizes(groups):
    instance = Instance.from_api({"id": "x", "groups": groups})

    assert instance.volume_size_gb is None
    assert instance.spec_code == ""
    assert instance.availability_zone == ""
    assert instance.node_count in (None, 0)


def test_a_bare_instance_has_empty_restore_fields():
    instance = Instance.from_api({})

    assert (instance.region, instance.vpc_id, instance.subnet_id, instance.security_group_id) == ("", "", "", "")
    assert (instance.node_count, instance.volume_size_gb, instance.storage_engine) == (None, None, "")


def test_the_time_window_example_is_a_single_point():
    # querying_the_time_window_when_a_backup_can_be_restored.rst, the example response.
    answer = {"total_count": 1, "restorable_time_periods": [{"start_time": 1607731200000, "end_time": 1607731200000}]}

    periods = restorable_periods_from_api(answer["restorable_time_periods"])

    assert periods == [(datetime(2020, 12, 12, tzinfo=UTC), datetime(2020, 12, 12, tzinfo=UTC))]


def test_malformed_periods_are_left_out_and_the_rest_sorted():
    items = [
        {"start_time": 1607731300000, "end_time": 1607731400000},
        {"start_time": "soon", "end_time": 1607731200000},
        {"start_time": 1607731200000},
        {"start_time": 1607731500000, "end_time": 1607731400000},
        "period",
        {"start_time": 10**30, "end_time": 10**30},
        {"start_time": 1607731000000, "end_time": 1607731100000},
    ]

    periods = restorable_periods_from_api(items)

    assert [(start.timestamp(), end.timestamp()) for start, end in periods] == [
        (1607731000, 1607731100),
        (1607731300, 1607731400),
    ]
    assert restorable_periods_from_api(None) == []
