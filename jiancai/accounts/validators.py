"""Validators for the national identifiers: GB 32100 (USCC) and GB 11643 (citizen ID number).

Both raise ValidationError with a Chinese message that names the field and the reason.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError

# GB 32100-2015: 31 characters, without I, O, Z, S, V.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError("统一社会信用代码应为18位，当前为%(n)d位", code="uscc_length", params={"n": len(code)})
    for i, c in enumerate(code):
        if c not in USCC_CHARSET:
            raise ValidationError(
                "统一社会信用代码第%(pos)d位“%(c)s”不是有效字符（不使用I、O、Z、S、V）",
                code="uscc_charset",
                params={"pos": i + 1, "c": c},
            )
    if code[0] == "0" or code[1] == "0":
        raise ValidationError("统一社会信用代码第1–2位（登记管理部门和机构类别）不能为0", code="uscc_structure")
    if not code[2:8].isdigit():
        raise ValidationError("统一社会信用代码第3–8位应为数字行政区划码", code="uscc_structure")
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        raise ValidationError("统一社会信用代码校验位错误", code="uscc_check_char")


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def parse_id_birth_date(value: str) -> dt.date | None:
    try:
        return dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_id_number(value: str, *, today: dt.date | None = None) -> None:
    number = (value or "").strip().upper()
    if len(number) != 18:
        raise ValidationError("身份证号应为18位，当前为%(n)d位", code="id_length", params={"n": len(number)})
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("身份证号前17位应为数字，末位为数字或X", code="id_charset")
    if number[0] == "0":
        raise ValidationError("身份证号前6位应为行政区划码", code="id_structure")
    birth = parse_id_birth_date(number)
    today = today or dt.date.today()
    if birth is None or birth.year < 1900 or birth > today:
        raise ValidationError("身份证号中的出生日期（第7–14位）不是真实日期", code="id_birth_date")
    if number[17] != id_check_char(number[:17]):
        raise ValidationError("身份证号校验位错误", code="id_check_char")


def mask_id_number(value: str) -> str:
    """110101********123X: region code and last four shown, birth date and sequence hidden."""
    number = (value or "").strip().upper()
    if len(number) < 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
