"""Demo credit data: behaviour records of every source and severity, partner-region records, one revoked record,
and the scores they give (deterministic with the seed).

Records go through `credit.actions.create_record` (as the platform, actor None), so numbers, periods, scores, the
change feed and audit rows are the real ones. Most records are decided in the past; the score history they create
is dated to the end of last month (seeding is not a user's change), and then a few records decided this month move
some scores, so the demo's credit warnings (信用预警) have something to show.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from jiancai.accounts.models import Organization
from jiancai.accounts.roles import OrgType
from jiancai.audit.actions import AuditContext
from jiancai.credit.actions import create_record, recompute_scores, refresh_score
from jiancai.credit.models import BehaviourRecord, CreditScoreHistory, RecordChannel, RecordSource, RecordStatus
from jiancai.filings.models import FilingStatus, Supply

from .generator import derive_seed

SEEDER = AuditContext(actor_name="演示数据生成（信用记录）", organization_name="北京市住房和城乡建设委员会")

BAD = (
    ("A", RecordSource.PENALTY, "供应不合格钢筋用于主体结构", "《建设工程质量管理条例》第六十四条"),
    ("A", RecordSource.INSPECTION, "预拌混凝土强度不合格且隐瞒检测结果", "《北京市建设工程质量条例》第七十六条"),
    ("B", RecordSource.INSPECTION, "未按规定报送建材供应信息", "《北京市建设工程材料使用监督管理规定》"),
    ("B", RecordSource.COMPLAINT, "以次充好，供货与合同规格不符", "《建设工程质量管理条例》第二十九条"),
    ("B", RecordSource.PENALTY, "使用未备案建材产品", "《北京市建设工程材料使用监督管理规定》第十条"),
    ("C", RecordSource.INSPECTION, "供货单据填写不全", "《建设工程材料进场管理规定》"),
    ("C", RecordSource.INSPECTION, "检测报告报送迟延", "《北京市建设工程材料使用监督管理规定》"),
)
GOOD = (
    ("获评北京市建材质量诚信企业", "《北京市建材行业诚信评价办法》"),
    ("产品获绿色建材三星级认证", "《绿色建材评价标识管理办法》"),
    ("参与重点工程应急保供表现突出", "市住建委通报表扬"),
)
PARTNERS = (("天津市", "天津市住房和城乡建设委员会", "JJ"), ("河北省", "河北省住房和城乡建设厅", "HB"))


def _record(rng: random.Random, org: Organization, decided_on: dt.date, *, good: bool = False, **extra: Any) -> Any:
    if good:
        title, basis = rng.choice(GOOD)
        fields: dict[str, Any] = {"kind": "good", "source": RecordSource.COMMENDATION, "title": title}
    else:
        severity, source, title, basis = rng.choice(BAD)
        fields = {"kind": "bad", "severity": severity, "source": source, "title": title}
    fields.update(extra)
    return create_record(
        organization=org,
        legal_basis=basis,
        facts=f"{org.name}：{fields['title']}，经核查属实。",
        decided_on=decided_on,
        channel=RecordChannel.AUTO if fields.get("source") != RecordSource.PARTNER else RecordChannel.IMPORT,
        actor=None,
        context=SEEDER,
        **fields,
    )


def seed_credit(*, seed: int, today: dt.date | None = None) -> int:
    """Create the demo's behaviour records and scores. Returns the number of records."""
    today = today or timezone.localdate()
    rng = random.Random(derive_seed(seed, "credit"))
    enterprises = list(Organization.objects.filter(org_type=OrgType.ENTERPRISE).order_by("uscc"))
    if not enterprises:
        return 0
    count = 0
    month_start = today.replace(day=1)
    with transaction.atomic():
        for index, org in enumerate(enterprises):
            # about two thirds of the enterprises have records; the demo login enterprises are among them
            if rng.random() > 0.66 and index > 0:
                continue
            for _ in range(rng.choice((1, 1, 2, 3))):
                back = rng.randint(1, 900)
                decided = min(today, month_start - dt.timedelta(days=back))
                _record(rng, org, decided, good=rng.random() < 0.25)
                count += 1
        for region, authority, prefix in PARTNERS:
            for n in range(1, 3):
                org = rng.choice(enterprises)
                _record(
                    rng,
                    org,
                    month_start - dt.timedelta(days=rng.randint(20, 300)),
                    source=RecordSource.PARTNER,
                    origin_region=region,
                    origin_authority=authority,
                    origin_no=f"{prefix}-{today.year}-{n:04d}",
                )
                count += 1
        revoked = _record(rng, enterprises[-1], month_start - dt.timedelta(days=60))
        revoke_record_as_seeder(revoked)
        count += 1
        recompute_scores(reason="演示数据初始计分", on=today)
        # The scores so far stand as at the end of last month …
        CreditScoreHistory.objects.update(
            computed_at=timezone.make_aware(dt.datetime.combine(month_start, dt.time.min)) - dt.timedelta(hours=1)
        )
        # … and this month a few suppliers get new bad records (enterprise and category credit warnings).
        recent = set(
            Supply.objects.filter(
                is_current=True, status=FilingStatus.SUBMITTED, delivery_date__gte=today - dt.timedelta(days=300)
            ).values_list("filer_id", flat=True)
        )
        pool = [org for org in enterprises if org.pk in recent] or enterprises
        for org in rng.sample(pool, k=min(3, len(pool))):
            _record(rng, org, today, severity="A", source=RecordSource.INSPECTION, title="本月监督抽查发现严重质量问题")
            count += 1
    return count


def revoke_record_as_seeder(record: Any) -> None:
    """Revoke without a user (`revoke_record` needs a regulator): the demo's one revoked record."""
    BehaviourRecord.objects.filter(pk=record.pk).update(
        status=RecordStatus.REVOKED,
        revoked_reason="经行政复议撤销（演示）",
        revoked_by_name=SEEDER.actor_name,
        revoked_at=timezone.now(),
    )
    refresh_score(record.organization, reason=f"撤销记录 {record.record_no}")
