"""/billing/…: the billing home, patients and their accounts, and the posting forms."""

from __future__ import annotations

from django.urls import path

from billing import views

urlpatterns = [
    path("", views.index, name="index"),
    path("patients/", views.patient_list, name="patients"),
    path("patients/<id:pk>/", views.patient_detail, name="patient_detail"),
    path("patients/<id:pk>/statement/", views.statement, name="statement"),
    path("patients/<id:pk>/payments/new/", views.payment_new, name="payment_new"),
    path("patients/<id:pk>/adjust/", views.claim_posting, {"kind": "adjustment"}, name="adjustment_new"),
    path("patients/<id:pk>/write-off/", views.claim_posting, {"kind": "write_off"}, name="write_off_new"),
    path("patients/<id:pk>/transfer/", views.claim_posting, {"kind": "transfer"}, name="transfer_new"),
    path("patients/<id:pk>/apply-credit/", views.claim_posting, {"kind": "apply_credit"}, name="apply_credit"),
    path("payments/<id:pk>/", views.payment_detail, name="payment_detail"),
    path("payments/<id:pk>/refund/", views.refund_new, name="refund_new"),
    path("payments/<id:pk>/void/", views.payment_take_back, {"how": "void"}, name="payment_void"),
    path("payments/<id:pk>/fail/", views.payment_take_back, {"how": "fail"}, name="payment_fail"),
    path("payments/<id:pk>/complete/", views.payment_complete, name="payment_complete"),
    path("transactions/<id:pk>/reverse/", views.transaction_reverse, name="transaction_reverse"),
]
