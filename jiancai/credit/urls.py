from django.urls import path

from . import views

app_name = "credit"

urlpatterns = [
    path("records/", views.RecordList.as_view(), name="record_list"),
    path("records/new/", views.record_create, name="record_create"),
    path("records/import/", views.partner_import, name="partner_import"),
    path("records/<str:record_no>/", views.record_detail, name="record_detail"),
    path("records/<str:record_no>/revoke/", views.record_revoke, name="record_revoke"),
    path("records/<str:record_no>/attachment/", views.record_attachment, name="record_attachment"),
    path("scores/", views.ScoreList.as_view(), name="score_list"),
    path("mine/", views.my_credit, name="mine"),
    path("enterprises/<str:uscc>/", views.enterprise_credit, name="enterprise"),
    path("model/", views.score_model, name="score_model"),
]
