from django.urls import path

from . import import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.job_list, name="list"),
    path("new/", import_views.job_create, name="create"),
    path("<int:pk>/", import_views.job_detail, name="detail"),
    path("<int:pk>/errors.csv", import_views.job_errors, name="errors"),
    path("templates/<str:kind>.<str:fmt>", import_views.template_download, name="template"),
]
