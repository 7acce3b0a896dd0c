"""Sign-in security routes (names are global: the middleware recognises some of them)."""

from __future__ import annotations

from django.urls import path

from billingpulse.security import views

urlpatterns = [
    path("accounts/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/session/", views.session_status, name="session_status"),
    path("accounts/session/extend/", views.session_extend, name="session_extend"),
    path("settings/security/", views.security_settings, name="security_settings"),
    path("settings/security/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("settings/security/two-factor/qr.svg", views.two_factor_qr, name="two_factor_qr"),
    path("settings/security/two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("settings/security/two-factor/backup-codes/", views.two_factor_backup_codes, name="two_factor_backup_codes"),
    path("settings/security/practice/", views.practice_two_factor, name="practice_two_factor"),
    path("settings/security/members/<id:pk>/unlock/", views.member_unlock, name="member_unlock"),
    path(
        "settings/security/members/<id:pk>/two-factor-reset/",
        views.member_two_factor_reset,
        name="member_two_factor_reset",
    ),
]
