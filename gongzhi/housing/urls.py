from __future__ import annotations

from django.urls import path

from gongzhi.housing import views

urlpatterns = [
    path("compounds/", views.compound_list, name="compound-list"),
    path("compounds/<str:code>/", views.compound_detail, name="compound-detail"),
    path("buildings/<int:pk>/", views.building_detail, name="building-detail"),
    path("units/", views.unit_list, name="unit-list"),
    path("units/<int:pk>/", views.unit_detail, name="unit-detail"),
    path("owners/", views.owner_list, name="owner-list"),
    path("reveal/<str:kind>/<int:pk>/", views.reveal, name="reveal-phone"),
    path("import/", views.import_view, name="registry-import"),
    path("import/template.xlsx", views.import_template, name="registry-import-template"),
    path("import/errors.xlsx", views.import_errors, name="registry-import-errors"),
    path("export/<str:kind>.xlsx", views.export_view, name="registry-export"),
]
