from django.urls import path

from . import warning_views

app_name = "warnings"

urlpatterns = [
    path("", warning_views.EarlyWarningList.as_view(), name="list"),
    path("<int:pk>/", warning_views.warning_detail, name="detail"),
]
