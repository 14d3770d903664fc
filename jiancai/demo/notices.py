"""Demo notices (通报) for the public portal: written and published by the city regulator's business login through
portal.actions, so they carry their audit rows like any regulator's notice."""

from __future__ import annotations

from jiancai.accounts.context import context_for
from jiancai.accounts.models import User
from jiancai.portal import actions
from jiancai.portal.models import Notice

NOTICES = (
    (
        "质量通报",
        "关于本市建设工程钢筋质量抽检情况的通报",
        "市住房城乡建设委组织对在建工程使用的热轧带肋钢筋开展了政府抽检。\n\n"
        "抽检结果已录入平台，不合格批次已全部追溯至使用部位并责令处理。"
        "请各建设、施工、监理单位严格执行进场复试制度。",
    ),
    (
        "政策公告",
        "关于启用建材使用管理信息化监控与诚信平台的公告",
        "自即日起，建材生产、供应企业及施工、检测单位应通过平台报送供应、采购、检测信息。\n\n"
        "公众可通过信息公示栏目查询企业信用、产品供应备案及检测报告真伪。",
    ),
    (
        "诚信通报",
        "关于部分企业信用记录的通报",
        "对经查实存在填报信息不实、供应无备案产品等行为的企业，已依规记入不良行为记录并在平台公示。",
    ),
)


def seed_notices(username: str = "city_business") -> int:
    """Publish the demo notices once (nothing when notices exist or the login is missing); returns how many."""
    user = User.objects.filter(username=username).select_related("organization").first()
    if user is None or Notice.objects.exists():
        return 0
    context = context_for(user)
    for category, title, body in NOTICES:
        notice = actions.save_notice(
            instance=Notice(), data={"title": title, "body": body, "category": category}, actor=user, context=context
        )
        actions.publish_notice(notice=notice, actor=user, context=context)
    return len(NOTICES)
