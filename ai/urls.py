from __future__ import annotations

from django.urls import path

from ai import views

app_name = "ai"

urlpatterns = [
    path("", views.index, name="index"),
    path("denial-codes/new/", views.denial_code_edit, name="denial_code_add"),
    path("denial-codes/<id:pk>/edit/", views.denial_code_edit, name="denial_code_edit"),
    path("denial-codes/<id:pk>/delete/", views.denial_code_delete, name="denial_code_delete"),
    path("policies/", views.policies, name="policies"),
    path("policies/new/", views.policy_edit, name="policy_add"),
    path("policies/<id:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<id:pk>/delete/", views.policy_delete, name="policy_delete"),
]
