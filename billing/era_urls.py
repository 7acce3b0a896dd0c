"""/billing/remittances/…: the remittance (835) pages."""

from __future__ import annotations

from django.urls import path

from billing.era import views

urlpatterns = [
    path("remittances/", views.era_list, name="era-list"),
    path("remittances/upload/", views.era_upload, name="era-upload"),
    path("remittances/queue/", views.era_queue, name="era-queue"),
    path("remittances/queue/<id:pk>/match/", views.era_queue_match, name="era-queue-match"),
    path("remittances/<id:pk>/", views.era_detail, name="era-detail"),
    path("remittances/<id:pk>/post/", views.era_post, name="era-post"),
]
