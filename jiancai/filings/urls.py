"""Pages of the filings: for each kind (supplies, purchases, …) list, new, detail, correct, withdraw, submit.

URL names are `filings:<kind>_<page>`, e.g. `filings:supply_detail`.
"""

from django.urls import URLPattern, path

from . import views

app_name = "filings"


def _kind_pages(kind: str, slug: str) -> list[URLPattern]:
    kwargs = {"kind": kind}
    return [
        path(f"{slug}/", views.LIST_VIEWS[kind].as_view(), name=f"{kind}_list"),
        path(f"{slug}/new/", views.filing_edit, kwargs, name=f"{kind}_create"),
        path(f"{slug}/<int:pk>/", views.filing_detail, kwargs, name=f"{kind}_detail"),
        path(f"{slug}/<int:pk>/correct/", views.filing_edit, kwargs, name=f"{kind}_correct"),
        path(f"{slug}/<int:pk>/withdraw/", views.filing_withdraw, kwargs, name=f"{kind}_withdraw"),
        path(f"{slug}/<int:pk>/submit/", views.filing_submit, kwargs, name=f"{kind}_submit"),
    ]


urlpatterns = [pattern for kind, slug in views.SLUGS.items() for pattern in _kind_pages(kind, slug)]
