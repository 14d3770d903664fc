from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("notices/", views.notice_list, name="notice_list"),
    path("notices/<uuid:public_id>/", views.notice_detail, name="notice_detail"),
    path("enterprises/", views.enterprise_search, name="enterprise_search"),
    path("enterprises/<str:uscc>/", views.enterprise_detail, name="enterprise_detail"),
    path("quality-materials/", views.quality_materials, name="quality"),
    path("top-products/", views.top_products, name="top"),
    path("prices/", views.prices, name="prices"),
    path("product-filings/", views.product_filings, name="filings"),
    path("catalog/", views.catalog, name="catalog"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/<str:project_code>/", views.project_detail, name="project_detail"),
    path("verify/", views.verify, name="verify"),
]
