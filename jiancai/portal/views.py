"""The public disclosure portal (信息公示), mounted at /portal/: no login, read only, cached.

Pages address records by their public identifiers (USCC, project code, filing number, catalog entry number,
a notice's public id), never by database ids. Names of persons and phone numbers are masked (masking.py).
Each page is rendered once per address and then served from the cache (caching.cached_page), except the
test-report check, which is a POST limited per address (`PORTAL_VERIFY_LIMIT` per window).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from jiancai.accounts.context import client_ip
from jiancai.accounts.models import Organization
from jiancai.accounts.roles import OrgType
from jiancai.credit import selectors as credit_selectors
from jiancai.materials.models import Listing, ProductFiling
from jiancai.registry.models import Project, Qualification

from . import disclosures
from .caching import cached_page
from .masking import mask_name, mask_names
from .models import Notice, NoticeCategory
from .report_codes import check_report, normalize_code

PAGE_SIZE = 20


def _page(request: HttpRequest, items: Any, size: int = PAGE_SIZE) -> Any:
    return Paginator(items, size).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _category_code(request: HttpRequest, cats: list[Any]) -> str:
    code = request.GET.get("category", "")
    return code if any(c.code == code for c in cats) else ""


# ---------------------------------------------------------------------------------------------- home and notices


@cached_page
def home(request: HttpRequest) -> HttpResponse:
    notices = list(Notice.objects.published().select_related("district")[:6])
    return render(request, "portal/home.html", {"notices": notices, "title": "首页"})


@cached_page
def notice_list(request: HttpRequest) -> HttpResponse:
    qs = Notice.objects.published().select_related("district")
    category = request.GET.get("category", "")
    if category in NoticeCategory.values:
        qs = qs.filter(category=category)
    q = request.GET.get("q", "").strip()
    for term in disclosures.search_terms(q):
        qs = qs.filter(Q(title__icontains=term) | Q(body__icontains=term))
    context = {
        "title": "通报",
        "page": _page(request, qs),
        "querystring": _query(request),
        "categories": NoticeCategory.values,
        "category": category,
        "q": q,
    }
    return render(request, "portal/notice_list.html", context)


@cached_page
def notice_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    notice = Notice.objects.published().select_related("district", "organization").filter(public_id=public_id).first()
    if notice is None:
        raise Http404("通报不存在或已撤回")
    return render(request, "portal/notice_detail.html", {"title": notice.title, "notice": notice})


# ---------------------------------------------------------------------------------------------- enterprises


def _enterprises() -> Any:
    return Organization.objects.filter(org_type=OrgType.ENTERPRISE).select_related("district")


@cached_page
def enterprise_search(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    page = None
    if q:
        qs = _enterprises().order_by("name", "uscc")
        if len(q) == 18 and q.isalnum():
            qs = qs.filter(Q(uscc=q.upper()) | Q(name__icontains=q))
        else:
            for term in disclosures.search_terms(q):
                qs = qs.filter(name__icontains=term)
        page = _page(request, qs)
    scores = credit_selectors.scores_for(page.object_list) if page is not None else {}
    rows = [(org, scores.get(org.pk)) for org in page.object_list] if page is not None else []
    context = {"title": "企业信用查询", "q": q, "page": page, "rows": rows, "querystring": _query(request)}
    return render(request, "portal/enterprise_search.html", context)


@cached_page
def enterprise_detail(request: HttpRequest, uscc: str) -> HttpResponse:
    org = _enterprises().prefetch_related("kinds").filter(uscc=uscc).first()
    if org is None:
        raise Http404("企业不存在")
    today = timezone.localdate()
    qualifications = list(
        Qualification.objects.filter(organization=org, valid_until__gte=today)
        .exclude(verification_status="false")
        .order_by("qualification_type", "certificate_no")
    )
    filings = list(
        disclosures.filings_in_force(today).filter(producer=org).order_by("category__sort", "filing_no")[:50]
    )
    context = {
        "title": org.name,
        "org": org,
        "legal_representative": mask_name(org.legal_representative),
        "qualifications": qualifications,
        "filings": filings,
    }
    context.update(credit_context(org))
    return render(request, "portal/enterprise_detail.html", context)


def credit_context(org: Organization) -> dict[str, Any]:
    """The enterprise's credit standing (credit.selectors: public information): score, rating, published records."""
    score = credit_selectors.scores_for([org]).get(org.pk)
    records = list(credit_selectors.published_records(org).order_by("-decided_on", "-record_no")[:100])
    return {"credit_score": score, "credit_records": records}


# ---------------------------------------------------------------------------------------------- materials


@cached_page
def quality_materials(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cats = disclosures.categories()
    code = _category_code(request, cats)
    qs = disclosures.filings_in_force(today)
    if code:
        qs = qs.filter(category__code=code)
    page = _page(request, qs, 30)
    since = disclosures.months_back(today, disclosures.PRICE_MONTHS)
    prices = disclosures.producer_prices(((f.producer_id, f.category_id) for f in page.object_list), since)
    rows = [(f, prices.get((f.producer_id, f.category_id))) for f in page.object_list]
    context = {
        "title": "优质建材名录",
        "categories": cats,
        "category": code,
        "page": page,
        "rows": rows,
        "since": since,
        "months": disclosures.PRICE_MONTHS,
        "querystring": _query(request),
    }
    return render(request, "portal/quality.html", context)


@cached_page
def top_products(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cats = disclosures.categories()
    code = _category_code(request, cats)
    context = {
        "title": "采购量前十产品",
        "categories": cats,
        "category": code,
        "groups": disclosures.top_products(today, code),
        "since": disclosures.months_back(today, disclosures.TOP_MONTHS),
        "months": disclosures.TOP_MONTHS,
    }
    return render(request, "portal/top.html", context)


@cached_page
def prices(request: HttpRequest) -> HttpResponse:
    months, series = disclosures.monthly_prices(timezone.localdate())
    labels = [m.strftime("%Y-%m") for m in months]
    selected = next((s for s in series if s.code == request.GET.get("category")), series[0] if series else None)
    chart = None
    if selected is not None:
        chart = {
            "title": f"{selected.name} 月度加权平均价（元/{selected.unit}）",
            "months": labels,
            "values": [float(v) if v is not None else None for v in selected.values],
            "unit": selected.unit,
        }
    context = {
        "title": "建材价格走势",
        "labels": labels,
        "series": series,
        "selected": selected,
        "chart": chart,
        "chart_json": json.dumps(chart, ensure_ascii=False) if chart else "",
    }
    return render(request, "portal/prices.html", context)


@cached_page
def product_filings(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    cats = disclosures.categories()
    code = _category_code(request, cats)
    q = request.GET.get("q", "").strip()
    qs = ProductFiling.objects.select_related("producer", "category").order_by("category__sort", "filing_no")
    if code:
        qs = qs.filter(category__code=code)
    for term in disclosures.search_terms(q):
        qs = qs.filter(
            Q(filing_no__icontains=term)
            | Q(product_name__icontains=term)
            | Q(spec__icontains=term)
            | Q(producer__name__icontains=term)
            | Q(producer__uscc=term.upper())
        )
    page = _page(request, qs)
    rows = [(f, f.valid_on(today), f.type_report_valid_on(today)) for f in page.object_list]
    context = {
        "title": "产品供应备案查询",
        "categories": cats,
        "category": code,
        "q": q,
        "page": page,
        "rows": rows,
        "querystring": _query(request),
    }
    return render(request, "portal/filings.html", context)


@cached_page
def catalog(request: HttpRequest) -> HttpResponse:
    qs = disclosures.catalog_in_force(timezone.localdate())
    listing = request.GET.get("listing", "")
    if listing in Listing.values:
        qs = qs.filter(listing=listing)
    q = request.GET.get("q", "").strip()
    for term in disclosures.search_terms(q):
        qs = qs.filter(Q(product_name__icontains=term) | Q(category__name__icontains=term) | Q(entry_no=term))
    context = {
        "title": "推广、限制、禁止使用建材目录",
        "listings": Listing.values,
        "listing": listing,
        "q": q,
        "page": _page(request, qs, 50),
        "querystring": _query(request),
    }
    return render(request, "portal/catalog.html", context)


# ---------------------------------------------------------------------------------------------- projects


@cached_page
def project_list(request: HttpRequest) -> HttpResponse:
    qs = disclosures.completed_projects()
    q = request.GET.get("q", "").strip()
    for term in disclosures.search_terms(q):
        qs = qs.filter(Q(name__icontains=term) | Q(project_code=term))
    context = {"title": "竣工项目材料使用", "q": q, "page": _page(request, qs), "querystring": _query(request)}
    return render(request, "portal/project_list.html", context)


@cached_page
def project_detail(request: HttpRequest, project_code: str) -> HttpResponse:
    project: Project | None = disclosures.completed_projects().filter(project_code=project_code).first()
    if project is None:
        raise Http404("项目不存在或尚未竣工验收备案")
    context = {"title": project.name, "project": project, "uses": disclosures.project_materials(project)}
    return render(request, "portal/project_detail.html", context)


# ---------------------------------------------------------------------------------------------- test-report check


def _over_limit(request: HttpRequest) -> bool:
    """Count this address's checks in the current window; True once it has used up PORTAL_VERIFY_LIMIT."""
    window = settings.PORTAL_VERIFY_WINDOW_SECONDS
    key = f"portal:verify:{client_ip(request) or 'unknown'}"
    if cache.add(key, 1, window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return False
    return bool(count > settings.PORTAL_VERIFY_LIMIT)


def _summary(report: Any) -> list[tuple[str, Any]]:
    """What the public sees of a genuine report: no person unmasked, no internal id."""
    return [
        ("报告编号", report.report_no),
        ("检测机构", report.filer.name),
        ("检测类别", report.get_test_kind_display()),
        ("工程项目", report.project.name if report.project else "—"),
        ("生产企业", report.producer.name if report.producer else "—"),
        ("材料品类", report.category.name),
        ("规格型号", report.spec or "—"),
        ("批号", report.batch_no or "—"),
        ("检测日期", report.test_date),
        ("检测结果", report.get_result_display()),
        ("见证人", mask_names(report.witness) or "—"),
        ("取样人", mask_names(report.sampler) or "—"),
    ]


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    data = request.POST if request.method == "POST" else request.GET
    report_no = (data.get("report_no") or "").strip()[:64]
    code = (data.get("code") or "").strip()[:32]
    context: dict[str, Any] = {"title": "检测报告真伪查验", "report_no": report_no, "code": code, "outcome": None}
    status = 200
    if request.method == "POST":
        errors = {}
        if not report_no:
            errors["report_no"] = "报告编号：必须填写"
        if not code:
            errors["code"] = "防伪校验码：必须填写"
        elif len(normalize_code(code)) != 12:
            errors["code"] = "防伪校验码：应为12位字母和数字（如 ABCD-EFGH-JKLM）"
        context["errors"] = errors
        if errors:
            status = 400
        elif _over_limit(request):
            context["outcome"] = "limited"
            status = 429
        else:
            result = check_report(report_no, code)
            if result.genuine:
                context["outcome"] = "genuine"
                context["summary"] = _summary(result.report)
            elif result.withdrawn:
                context["outcome"] = "withdrawn"
            else:
                context["outcome"] = "not_found"
    response = render(request, "portal/verify.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response
