"""/inbox/…: the needs-action inbox."""

from __future__ import annotations

from django.urls import path

from inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("<id:pk>/assign/", views.assign, name="assign"),
    path("<id:pk>/snooze/", views.snooze, name="snooze"),
    path("<id:pk>/wake/", views.wake, name="wake"),
    path("<id:pk>/done/", views.done, name="done"),
]
