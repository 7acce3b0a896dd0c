from __future__ import annotations

from django.urls import path

from documents import views

app_name = "documents"

urlpatterns = [
    path("", views.document_list, name="index"),
    path("upload/", views.upload, name="upload"),
    path("review/", views.review_queue, name="review"),
    path("patients/<id:pk>/", views.patient_documents, name="patient"),
    path("<id:pk>/", views.document_detail, name="detail"),
    path("<id:pk>/status/", views.document_move, name="move"),
    path("<id:pk>/comment/", views.document_comment, name="comment"),
    path("<id:pk>/assign/", views.document_assign, name="assign"),
    path("<id:pk>/attach/", views.document_attach, name="attach"),
    path("<id:pk>/versions/", views.version_new, name="version_new"),
    path("<id:pk>/email/", views.document_email, name="email"),
    path("<id:pk>/share/", views.document_share, name="share"),
    path("<id:pk>/shares/<id:share_pk>/withdraw/", views.share_withdraw, name="share_withdraw"),
    path("shared/<str:token>/", views.shared, name="shared"),
    path("shared/<str:token>/download/", views.shared_download, name="shared_download"),
    path("<id:pk>/versions/<id:number>/download/", views.version_download, name="download"),
    path("<id:pk>/versions/<id:number>/preview/", views.version_preview, name="preview"),
]
