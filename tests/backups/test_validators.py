"""The name and description rules accept exactly what creating_a_manual_backup.rst allows."""

import re
import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backups.cloud import BackupPolicy
from backups.validators import validate_backup_description, validate_backup_name, validate_backup_policy

# The reference's rules written as the plainest possible oracle.
LETTERS = string.ascii_letters
NAME_ALPHABET = LETTERS + string.digits + "-_"
FORBIDDEN = set(">!<\"&'=")


def reference_name_ok(name: str) -> bool:
    return 4 <= len(name) <= 64 and name[0] in LETTERS and all(c in NAME_ALPHABET for c in name)


def reference_description_ok(description: str) -> bool:
    # The reference's rules, and no NUL: the console refuses what no database text can hold.
    return (
        bool(description.strip())
        and len(description) <= 256
        and not (set(description) & FORBIDDEN)
        and "\x00" not in description
    )


def accepts(validator, value) -> bool:
    try:
        validator(value)
    except ValidationError:
        return False
    return True


# Names drawn mostly from near the allowed alphabet, so both sides of each rule are hit.
names = st.text(alphabet=NAME_ALPHABET + " .éß!/", max_size=70)
valid_names = st.from_regex(re.compile(r"[A-Za-z][A-Za-z0-9_-]{3,63}", re.ASCII), fullmatch=True)
descriptions = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@given(names)
@example("abc")
@example("abcd")
@example("a" * 64)
@example("a" * 65)
@example("1abc")
@example("_abc")
@example("ab-c_9")
@example("abcé")
def test_name_validator_matches_the_reference(name):
    assert accepts(validate_backup_name, name) == reference_name_ok(name)


@given(valid_names)
def test_every_name_the_reference_allows_is_accepted(name):
    assert accepts(validate_backup_name, name)


@given(descriptions)
@example("")
@example("   ")
@example("x" * 256)
@example("x" * 257)
@example("nightly before upgrade, see ticket #42")
def test_description_validator_matches_the_reference(description):
    assert accepts(validate_backup_description, description) == reference_description_ok(description)


@pytest.mark.parametrize("character", sorted(FORBIDDEN))
def test_each_forbidden_description_character_is_named_in_the_message(character):
    with pytest.raises(ValidationError) as error:
        validate_backup_description(f"before upgrade {character} now")
    assert character in error.value.messages[0]


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("", "Enter a name"),
        ("abc", "4 to 64 characters"),
        ("9lives", "must start with a letter"),
        ("nightly backup", "' '"),
    ],
)
def test_name_messages_say_what_is_wrong(name, fragment):
    with pytest.raises(ValidationError) as error:
        validate_backup_name(name)
    assert fragment in error.value.messages[0]


# Automated backup policies (configuring_an_automated_backup_policy.rst): the validator against
# the simulator, which implements the page's rules on its own.

hours = st.sampled_from(["00", "01", "09", "12", "22", "23", "24", "1", "7"])
minutes = st.sampled_from(["00", "15", "30", "45", "10", "5", "60"])
windows = st.one_of(
    st.builds(
        lambda h, m, shift, m2: f"{h}:{m}-{(int(h) + shift) % 24:02}:{m2}",
        hours,
        minutes,
        st.sampled_from([1, 1, 2, 0]),
        minutes,
    ),
    st.sampled_from(["", "01:00", "01:00-02:00 ", "23:00-00:00", "23:00-24:00", "01:00~02:00"]),
    st.none(),
)
periods = st.one_of(
    st.lists(st.sampled_from("012345678"), min_size=0, max_size=9).map(",".join),
    st.permutations("1234567").map(",".join),
    st.sampled_from(["1, 2", "1,,2", ",1", "1,", "7,1", "1;2", "\u0661"]),
    st.none(),
)
keep_days_values = st.one_of(st.integers(min_value=-2, max_value=40), st.sampled_from([0, 1, 6, 7, 35, 36]))


def _policy_or_errors(keep_days, start_time, period):
    try:
        return validate_backup_policy(keep_days, start_time, period)
    except ValidationError as error:
        return error.message_dict


@pytest.fixture
def policy_target(simulator):
    """An instance of the test simulator and a function that PUTs a policy to it."""
    instance = simulator.add_instance("orders-prod")
    token = simulator.token()
    path = f"/v3/{simulator.project_id}/instances/{instance['id']}/backups/policy"
    read_path = path.replace("/v3/", "/v3.1/", 1)

    def put(policy):
        body = {"backup_policy": {key: value for key, value in policy.items() if value is not None}}
        response = simulator.api("PUT", path, token, json=body)
        read_back = simulator.api("GET", read_path, token).json()["backup_policy"]
        return response, read_back

    return put


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keep_days_values, windows, periods)
@example(0, None, None)
@example(3, "01:00-02:00", "1,2,3,4,5,6")
@example(3, "01:00-02:00", "7,6,5,4,3,2,1")
@example(7, "23:45-00:45", "3")
@example(7, "01:15-02:30", "3")
@example(7, "01:00-02:00", "3,3")
@example(7, "0\u0663:00-04:00", "1")
@example(35, "00:00-01:00", "2,4,6")
def test_policy_validator_accepts_exactly_what_the_cloud_accepts(policy_target, keep_days, start_time, period):
    outcome = _policy_or_errors(keep_days, start_time, period)

    response, read_back = policy_target({"keep_days": keep_days, "start_time": start_time, "period": period})

    assert isinstance(outcome, BackupPolicy) == (response.status_code == 204), (outcome, response.text)
    if isinstance(outcome, BackupPolicy):
        assert (outcome.keep_days, outcome.start_time, outcome.period) == (
            read_back["keep_days"],
            read_back.get("start_time"),
            read_back.get("period"),
        )


def test_policy_validator_normalises_and_turns_off_with_keep_days_zero():
    assert validate_backup_policy(7, "01:00-02:00", "5,1,3") == BackupPolicy(7, "01:00-02:00", "1,3,5")
    assert validate_backup_policy(14, "23:30-00:30", [7, 1]) == BackupPolicy(14, "23:30-00:30", "1,7")
    assert validate_backup_policy(0, "whatever", "9") == BackupPolicy(0, None, None)


@pytest.mark.parametrize(
    ("keep_days", "start_time", "period", "field", "code", "fragment"),
    [
        (None, "01:00-02:00", "1", "keep_days", "required", "0 turns them off"),
        (36, "01:00-02:00", "1", "keep_days", "range", "0 to 35 days"),
        ("7", "01:00-02:00", "1", "keep_days", "range", "0 to 35 days"),
        (7, "", "1", "start_time", "required", "window"),
        (7, "1:00-2:00", "1", "start_time", "format", "hh:mm-HH:MM in UTC"),
        (7, "01:10-02:10", "1", "start_time", "minutes", ":15, :30 or :45"),
        (7, "01:00-03:00", "1", "start_time", "length", "one hour long: 01:00-02:00"),
        (7, "23:30-01:30", "1", "start_time", "length", "23:30-00:30"),
        (7, "01:00-02:00", "", "period", "required", "at least one day"),
        (7, "01:00-02:00", "1,8", "period", "format", "1 (Monday) to 7 (Sunday)"),
        (7, "01:00-02:00", "1,1", "period", "duplicate", "only once"),
        (6, "01:00-02:00", "1,2,3", "period", "every_day", "all seven days"),
    ],
)
def test_policy_messages_name_the_field_and_say_what_is_wrong(keep_days, start_time, period, field, code, fragment):
    with pytest.raises(ValidationError) as raised:
        validate_backup_policy(keep_days, start_time, period)

    [error] = raised.value.error_dict[field]
    assert error.code == code
    assert fragment in " ".join(raised.value.message_dict[field])


def test_policy_validator_reports_every_field_at_once():
    with pytest.raises(ValidationError) as raised:
        validate_backup_policy(40, "bad", "")

    assert set(raised.value.message_dict) == {"keep_days", "start_time", "period"}
