"""Masking of personal data on public pages: names of persons, phone numbers, ID numbers. Never unmasked."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_names(text: str) -> str:
    """Several names separated by 、，, or spaces, each masked."""
    parts = re.split(r"([、，,;；\s]+)", text or "")
    return "".join(p if i % 2 else mask_name(p) for i, p in enumerate(parts))


def mask_phone(phone: str) -> str:
    """13812345678 → 138****5678; 010-62345678 → 010-****5678; short numbers are hidden entirely."""
    phone = (phone or "").strip()
    digits = _DIGITS.findall(phone)
    if len(digits) < 7:
        return "*" * len(phone)
    keep_head, keep_tail = 3, 4
    seen = 0
    out = []
    total = len(digits)
    for ch in phone:
        if ch.isdigit():
            out.append(ch if seen < keep_head or seen >= total - keep_tail else "*")
            seen += 1
        else:
            out.append(ch)
    return "".join(out)


def mask_id_number(value: str) -> str:
    """A citizen ID number: the first 6 and the last 4 characters remain (110101********123X)."""
    value = (value or "").strip()
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
