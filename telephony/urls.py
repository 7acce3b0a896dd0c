from __future__ import annotations

from django.urls import path

from telephony import views

app_name = "telephony"

urlpatterns = [
    path("", views.call_list, name="index"),
    path("<id:pk>/", views.call_detail, name="detail"),
    path("start/", views.call_selected, name="call_selected"),
    path("queue/", views.queue, name="queue"),
    path("review/", views.review_queue, name="review_queue"),
    path("<id:pk>/review/", views.review_outcome, name="review"),
    path("follow-ups/", views.followups, name="followups"),
    path("follow-ups/intervals/", views.followup_cadence, name="followup_cadence"),
    path("follow-ups/<id:pk>/cancel/", views.followup_cancel, name="followup_cancel"),
    path("claims/<id:claim_pk>/", views.claim_calls, name="claim_calls"),
    path("claims/<id:claim_pk>/follow-ups/", views.followup_add, name="followup_add"),
]
