"""Pages of the blacklist, restrictions and credit repair (URL names `blacklist:…`)."""

from django.urls import path

from . import views

app_name = "blacklist"

urlpatterns = [
    path("", views.EntryList.as_view(), name="entry_list"),
    path("propose/", views.entry_propose, name="entry_propose"),
    path("restrictions/", views.RestrictionList.as_view(), name="restriction_list"),
    path("restrictions/new/", views.restriction_create, name="restriction_create"),
    path("restrictions/<str:restriction_no>/", views.restriction_detail, name="restriction_detail"),
    path("restrictions/<str:restriction_no>/revoke/", views.restriction_revoke, name="restriction_revoke"),
    path("repairs/", views.RepairList.as_view(), name="repair_list"),
    path("repairs/attachments/<int:pk>/", views.repair_attachment, name="repair_attachment"),
    path("repairs/<str:application_no>/", views.repair_detail, name="repair_detail"),
    path("repairs/<str:application_no>/review/", views.repair_review, name="repair_review"),
    path("entries/<str:entry_no>/", views.entry_detail, name="entry_detail"),
    path("entries/<str:entry_no>/repair/", views.repair_apply, name="repair_apply"),
    path("entries/<str:entry_no>/<str:verb>/", views.entry_decide, name="entry_decide"),
]
