from django.urls import path

from . import manage_views

app_name = "disclosure"

urlpatterns = [
    path("notices/", manage_views.NoticeList.as_view(), name="notice_list"),
    path("notices/new/", manage_views.notice_edit, name="notice_create"),
    path("notices/<uuid:public_id>/", manage_views.notice_detail, name="notice_detail"),
    path("notices/<uuid:public_id>/edit/", manage_views.notice_edit, name="notice_edit"),
    path("notices/<uuid:public_id>/publish/", manage_views.notice_publish, name="notice_publish"),
    path("notices/<uuid:public_id>/withdraw/", manage_views.notice_withdraw, name="notice_withdraw"),
    path("test-reports/<int:pk>/print/", manage_views.report_print, name="report_print"),
]
