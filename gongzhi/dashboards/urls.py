from __future__ import annotations

from django.urls import path

from gongzhi.dashboards import views

urlpatterns = [
    path("", views.kpi_page, name="kpi"),
    path("tickets.csv", views.export_csv, name="kpi-export-csv"),
    path("tickets.xlsx", views.export_xlsx, name="kpi-export-xlsx"),
]
