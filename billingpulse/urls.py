from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from billingpulse import views
from telephony import webhook

auth_patterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            post_reset_login=True, post_reset_login_backend="billingpulse.auth.EmailBackend"
        ),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
]

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("signup/", views.sign_up, name="sign_up"),
    path("accounts/", include(auth_patterns)),
    path("settings/practice/", views.practice_settings, name="practice_settings"),
    path("settings/providers/new/", views.provider_edit, name="provider_add"),
    path("settings/providers/<id:pk>/", views.provider_edit, name="provider_edit"),
    path("settings/team/", views.team, name="team"),
    path("settings/team/invite/", views.team_invite, name="team_invite"),
    path("settings/team/<id:pk>/role/", views.team_role, name="team_role"),
    path("settings/team/<id:pk>/active/", views.team_active, name="team_active"),
    path(
        "settings/team/invitations/<id:pk>/withdraw/",
        views.team_invitation_withdraw,
        name="team_invitation_withdraw",
    ),
    path("settings/api-token/", views.api_token, name="api_token"),
    path("", include("billingpulse.security.urls")),
    path("codes/icd10/", views.icd10_search, name="icd10_search"),
    path("claims/", include("claims.urls")),
    path("calls/", include("telephony.urls")),
    path("billing/", include("billing.urls")),
    path("notes/", include("clinical.urls")),
    path("documents/", include("documents.urls")),
    path("knowledge/", include("ai.urls")),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("inbox/", include("inbox.urls")),
    path("exports/", include("exports.urls")),
    path("favicon.ico", views.favicon, name="favicon"),
    path("health", views.health, name="health"),
    path("health/ready", views.health_ready, name="health_ready"),
    path("api/", views.api_index, name="api_index"),
    path("api/v1/knowledge/", include("ai.api_urls")),
    path("api/v1/", include("billingpulse.api_urls")),
    path("api/webhooks/vapi", webhook.vapi_webhook, name="vapi_webhook"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for browsers: OPTIONS would ask its HTML renderer for a template it does not have.
    path(
        "api/docs/",
        # The split view serves its start-up script as a file of its own (no inline script, for the CSP).
        SpectacularSwaggerSplitView.as_view(
            url_name="schema", template_name="security/swagger_ui.html", http_method_names=["get", "head"]
        ),
        name="api_docs",
    ),
    path("admin/", admin.site.urls),
]
