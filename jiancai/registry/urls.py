from django.urls import path

from . import views

app_name = "registry"

urlpatterns = [
    path("enterprises/", views.EnterpriseList.as_view(), name="enterprise_list"),
    path("enterprises/new/", views.enterprise_edit, name="enterprise_create"),
    path("enterprises/<str:uscc>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<str:uscc>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("qualifications/", views.QualificationList.as_view(), name="qualification_list"),
    path("qualifications/new/", views.qualification_edit, name="qualification_create"),
    path("qualifications/<int:pk>/", views.qualification_detail, name="qualification_detail"),
    path("qualifications/<int:pk>/edit/", views.qualification_edit, name="qualification_edit"),
    path("capacities/", views.CapacityList.as_view(), name="capacity_list"),
    path("capacities/new/", views.capacity_edit, name="capacity_create"),
    path("capacities/<int:pk>/", views.capacity_detail, name="capacity_detail"),
    path("capacities/<int:pk>/edit/", views.capacity_edit, name="capacity_edit"),
    path("persons/", views.PersonList.as_view(), name="person_list"),
    path("persons/new/", views.person_edit, name="person_create"),
    path("persons/<int:pk>/", views.person_detail, name="person_detail"),
    path("persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:pk>/certificates/new/", views.certificate_edit, name="certificate_create"),
    path("certificates/<int:cert>/edit/", views.certificate_edit, name="certificate_edit"),
    path("projects/", views.ProjectList.as_view(), name="project_list"),
    path("projects/new/", views.project_edit, name="project_create"),
    path("projects/<str:code>/", views.project_detail, name="project_detail"),
    path("projects/<str:code>/edit/", views.project_edit, name="project_edit"),
    path("verify/<str:kind>/<str:key>/", views.verify, name="verify"),
]
