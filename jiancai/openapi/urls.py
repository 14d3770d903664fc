from django.urls import path

from . import api

urlpatterns = [
    path("platform/credit/batch/", api.BatchCreditView.as_view(), name="platform-credit-batch"),
    path("platform/credit/<str:uscc>/", api.EnterpriseCreditView.as_view(), name="platform-credit"),
    path("platform/changes/", api.ChangeFeedView.as_view(), name="platform-changes"),
]
