from django.urls import path

from . import views

app_name = "audit"

urlpatterns = [
    path("", views.AuditEventList.as_view(), name="event_list"),
    path("chain/", views.chain_view, name="chain"),
]
