"""The fund pages of a project: ledger, income, expenses and approvals, levy."""

from __future__ import annotations

from django.urls import URLPattern, path

from gongzhi.projects import views_money as views

urlpatterns: list[URLPattern] = [
    path("<int:pk>/ledger/", views.ledger_page, name="project-ledger"),
    path("<int:pk>/ledger/<int:eid>/reverse/", views.reverse_entry, name="project-entry-reverse"),
    path("<int:pk>/receipts/<int:rid>/", views.receipt, name="project-receipt"),
    path("<int:pk>/income/new/", views.income_new, name="project-income-new"),
    path("<int:pk>/emergency/new/", views.emergency_new, name="project-emergency-new"),
    path("<int:pk>/expenses/", views.expense_list, name="project-expenses"),
    path("<int:pk>/expenses/new/", views.expense_new, name="project-expense-new"),
    path("<int:pk>/expenses/<int:eid>/", views.expense_detail, name="project-expense-detail"),
    path("<int:pk>/expenses/<int:eid>/<str:action>/", views.expense_act, name="project-expense-act"),
    path("<int:pk>/levy/", views.levy_page, name="project-levy"),
    path("<int:pk>/levy/export.xlsx", views.levy_export, name="project-levy-export"),
]
