from django.urls import path

from . import views

app_name = "materials"

urlpatterns = [
    path("categories/", views.CategoryList.as_view(), name="category_list"),
    path("categories/new/", views.category_edit, name="category_create"),
    path("categories/<str:code>/", views.category_detail, name="category_detail"),
    path("categories/<str:code>/edit/", views.category_edit, name="category_edit"),
    path("categories/<str:code>/usage/", views.usage_change, name="usage_change"),
    path("filings/", views.ProductFilingList.as_view(), name="filing_list"),
    path("filings/new/", views.filing_edit, name="filing_create"),
    path("filings/<int:pk>/", views.filing_detail, name="filing_detail"),
    path("filings/<int:pk>/edit/", views.filing_edit, name="filing_edit"),
    path("catalog/", views.CatalogEntryList.as_view(), name="catalog_list"),
    path("catalog/new/", views.catalog_edit, name="catalog_create"),
    path("catalog/<int:pk>/", views.catalog_detail, name="catalog_detail"),
    path("catalog/<int:pk>/edit/", views.catalog_edit, name="catalog_edit"),
]
