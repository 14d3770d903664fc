"""Verification codes of test reports (检测报告防伪校验码).

The code is an HMAC-SHA256 (key `settings.REPORT_CODE_KEY`, derived from SECRET_KEY when unset) of the report's
natural key, the laboratory's USCC and the report number (FORMATS.md). It is printed with a QR code on the
report's printable page; anyone holding the paper can check it on the portal. The code does not change when the
laboratory corrects the report (same key), and cannot be computed without the key, so a forged report number
with a made-up code is answered "not found" exactly as an unknown number is.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

from jiancai.filings.models import FilingStatus, TestReport

CODE_LENGTH = 12  # 60 bits, shown as XXXX-XXXX-XXXX
_NOT_CODE = re.compile(r"[^A-Z2-7]")


def verification_code(lab_uscc: str, report_no: str) -> str:
    message = f"test_report\x1f{lab_uscc}\x1f{report_no}".encode()
    digest = hmac.new(settings.REPORT_CODE_KEY.encode(), message, hashlib.sha256).digest()
    raw = base64.b32encode(digest).decode()[:CODE_LENGTH]
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def code_for(report: TestReport) -> str:
    return verification_code(report.filer.uscc, report.report_no)


def normalize_code(text: str) -> str:
    """What a person types: lower case, spaces, hyphens, full-width characters are all accepted."""
    import unicodedata

    return _NOT_CODE.sub("", unicodedata.normalize("NFKC", text or "").upper())


@dataclass(frozen=True)
class CheckResult:
    report: TestReport | None

    @property
    def genuine(self) -> bool:
        return self.report is not None and self.report.status == FilingStatus.SUBMITTED

    @property
    def withdrawn(self) -> bool:
        return self.report is not None and self.report.status == FilingStatus.WITHDRAWN


def check_report(report_no: str, code: str) -> CheckResult:
    """The current submitted or withdrawn version whose number and code match, else nothing.

    Report numbers are unique per laboratory only, so every laboratory's report of that number is tried; the
    comparison is constant-time and all candidates are compared, whatever matched first.
    """
    report_no = (report_no or "").strip()
    wanted = normalize_code(code)
    if not report_no or len(wanted) != CODE_LENGTH:
        return CheckResult(None)
    candidates = (
        TestReport.objects.filter(
            report_no=report_no, is_current=True, status__in=[FilingStatus.SUBMITTED, FilingStatus.WITHDRAWN]
        )
        .select_related("filer", "producer", "project", "project__district", "category")
        .order_by("pk")
    )
    found: TestReport | None = None
    for report in candidates:
        if hmac.compare_digest(normalize_code(code_for(report)), wanted):
            found = report
    return CheckResult(found)
