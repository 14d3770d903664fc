"""Pages of backend monitoring: alerts, rules, enforcement cases (URL names `monitoring:…`)."""

from django.urls import path

from . import trace_views, views

app_name = "monitoring"

urlpatterns = [
    path("alerts/", views.AlertList.as_view(), name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/<str:verb>/", views.alert_act, name="alert_act"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    path("rules/", views.RuleList.as_view(), name="rule_list"),
    path("rules/<str:code>/", views.rule_detail, name="rule_detail"),
    path("rules/<str:code>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<str:code>/parameters/<str:name>/", views.parameter_change, name="parameter_change"),
    path("trace/<int:pk>/", trace_views.TraceList.as_view(), name="trace"),
    path("cases/", views.CaseList.as_view(), name="case_list"),
    path("cases/<str:case_no>/", views.case_detail, name="case_detail"),
    path("cases/<str:case_no>/close/", views.case_close, name="case_close"),
]
