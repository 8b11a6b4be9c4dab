"""The name and description rules accept exactly what creating_a_manual_backup.rst allows."""

import re
import string

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from backups.validators import validate_backup_description, validate_backup_name

# The reference's rules written as the plainest possible oracle.
LETTERS = string.ascii_letters
NAME_ALPHABET = LETTERS + string.digits + "-_"
FORBIDDEN = set(">!<\"&'=")


def reference_name_ok(name: str) -> bool:
    return 4 <= len(name) <= 64 and name[0] in LETTERS and all(c in NAME_ALPHABET for c in name)


def reference_description_ok(description: str) -> bool:
    return bool(description.strip()) and len(description) <= 256 and not (set(description) & FORBIDDEN)


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
