"""Pages of statistics, targets and reports (URL names `indicators:…`)."""

from django.urls import path

from . import views

app_name = "indicators"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("statistics/", views.StatisticList.as_view(), name="statistic_list"),
    path("statistics/new/", views.statistic_create, name="statistic_create"),
    path("statistics/<int:pk>/", views.statistic_detail, name="statistic_detail"),
    path("statistics/<int:pk>/edit/", views.statistic_edit, name="statistic_edit"),
    path("targets/", views.TargetList.as_view(), name="target_list"),
    path("targets/new/", views.target_create, name="target_create"),
    path("targets/<int:pk>/edit/", views.target_edit, name="target_edit"),
    path("reports/", views.report_page, name="reports"),
    path("reports/<str:name>.<str:fmt>", views.report_download, name="report_download"),
]
