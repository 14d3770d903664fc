"""Property tests of the national identifier validators: GB 32100 (USCC) and GB 11643 (citizen ID number)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, example, given
from hypothesis import strategies as st

from jiancai.accounts.passwords import CharacterClassValidator
from jiancai.accounts.validators import (
    ID_CHECK_CHARS,
    USCC_CHARSET,
    id_check_char,
    mask_id_number,
    uscc_check_char,
    validate_id_number,
    validate_uscc,
)

TODAY = dt.date(2026, 6, 1)


def code_of(fn, value: str, **kwargs) -> str | None:
    try:
        fn(value, **kwargs)
    except ValidationError as exc:
        return exc.code
    return None


# ---------------------------------------------------------------- USCC

NONZERO = USCC_CHARSET[1:]


@st.composite
def valid_usccs(draw: st.DrawFn) -> str:
    department = draw(st.sampled_from(NONZERO))
    kind = draw(st.sampled_from(NONZERO))
    region = draw(st.text("0123456789", min_size=6, max_size=6))
    body = draw(st.text(USCC_CHARSET, min_size=9, max_size=9))
    first17 = department + kind + region + body
    return first17 + uscc_check_char(first17)


@given(valid_usccs())
@example("91350100M000100Y43")  # a published example
def test_every_valid_uscc_passes(code: str) -> None:
    validate_uscc(code)
    validate_uscc(code.lower())  # entered in lower case
    validate_uscc(f" {code} ")  # with stray blanks


@given(valid_usccs(), st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_changing_any_single_character_of_a_uscc_fails(code: str, position: int, replacement: str) -> None:
    assume(code[position] != replacement)
    changed = code[:position] + replacement + code[position + 1 :]
    assert code_of(validate_uscc, changed) in {"uscc_structure", "uscc_check_char"}


@given(valid_usccs(), st.integers(0, 17), st.sampled_from("IOZSV*-"))
def test_characters_outside_the_charset_fail(code: str, position: int, bad: str) -> None:
    changed = code[:position] + bad + code[position + 1 :]
    with pytest.raises(ValidationError) as info:
        validate_uscc(changed)
    assert info.value.code == "uscc_charset"
    assert f"第{position + 1}位" in info.value.messages[0]


@given(valid_usccs(), st.integers(0, 17))
def test_wrong_length_fails(code: str, cut: int) -> None:
    assert code_of(validate_uscc, code[:cut]) == "uscc_length"
    assert code_of(validate_uscc, code + "1") == "uscc_length"


def test_uscc_messages_are_chinese_and_name_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        validate_uscc("91350100M000100Y44")
    assert info.value.messages == ["统一社会信用代码校验位错误"]
    with pytest.raises(ValidationError) as info:
        validate_uscc("9135010")
    assert info.value.messages == ["统一社会信用代码应为18位，当前为7位"]


# ---------------------------------------------------------------- citizen ID number


@st.composite
def valid_id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.integers(110000, 659999)).__str__()
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.integers(0, 999))
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


@given(valid_id_numbers())
@example("11010519491231002X")  # the example of GB 11643
def test_every_valid_id_number_passes(number: str) -> None:
    validate_id_number(number, today=TODAY)
    validate_id_number(number.lower(), today=TODAY)  # a lower-case x check character


@given(valid_id_numbers(), st.integers(0, 17), st.sampled_from("0123456789X"))
def test_changing_any_single_character_of_an_id_number_fails(number: str, position: int, replacement: str) -> None:
    assume(number[position] != replacement)
    assume(position == 17 or replacement != "X")  # X only as the check character (other positions: id_charset)
    changed = number[:position] + replacement + number[position + 1 :]
    assert code_of(validate_id_number, changed, today=TODAY) in {"id_structure", "id_birth_date", "id_check_char"}


def _with_birth(date_text: str, region: str = "110105", sequence: str = "123") -> str:
    first17 = f"{region}{date_text}{sequence}"
    return first17 + id_check_char(first17)  # the check character is right: only the date is wrong


@pytest.mark.parametrize(
    "date_text",
    [
        "19900230",  # 30 February
        "19000229",  # 1900 was not a leap year
        "20230229",
        "19901301",  # month 13
        "19900001",  # month 0
        "19900100",  # day 0
        "19900431",  # 31 April
        "18991231",  # before 1900
        "20260602",  # the day after TODAY
        "20991231",  # the future
    ],
)
def test_impossible_birth_dates_fail(date_text: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_id_number(_with_birth(date_text), today=TODAY)
    assert info.value.code == "id_birth_date"
    assert info.value.messages == ["身份证号中的出生日期（第7–14位）不是真实日期"]


def test_leap_day_is_a_real_birth_date() -> None:
    validate_id_number(_with_birth("20000229"), today=TODAY)
    validate_id_number(_with_birth("20260601"), today=TODAY)  # born today


@given(valid_id_numbers())
def test_future_birth_dates_are_judged_against_today(number: str) -> None:
    born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    assert code_of(validate_id_number, number, today=born - dt.timedelta(days=1)) == "id_birth_date"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("11010519491231002", "id_length"),
        ("11010519491231002XX", "id_length"),
        ("1101051949123100X2", "id_charset"),
        ("11010519491231002Y", "id_charset"),
        ("01010519491231002X", "id_structure"),
    ],
)
def test_malformed_id_numbers(number: str, code: str) -> None:
    assert code_of(validate_id_number, number, today=TODAY) == code


@given(valid_id_numbers())
def test_mask_hides_birth_date_and_sequence(number: str) -> None:
    masked = mask_id_number(number)
    assert len(masked) == 18
    assert masked == number[:6] + "*" * 8 + number[-4:]
    assert number[6:14] not in masked


def test_check_character_table() -> None:
    assert id_check_char("11010519491231002") == "X"
    assert set(ID_CHECK_CHARS) == set("0123456789X")


# ---------------------------------------------------------------- password character classes


CLASSES = {"lower": "abcxyz", "upper": "ABCXYZ", "digit": "0123456789", "other": "@#_-!。"}


@given(st.data(), st.sets(st.sampled_from(sorted(CLASSES)), min_size=1))
def test_character_class_validator_needs_three_classes(data, classes: set[str]) -> None:
    chunks = [data.draw(st.text(CLASSES[c], min_size=1, max_size=5)) for c in sorted(classes)]
    password = "".join(data.draw(st.permutations(chunks)))
    validator = CharacterClassValidator(min_classes=3)
    if len(classes) >= 3:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError) as info:
            validator.validate(password)
        assert info.value.code == "password_too_few_classes"
