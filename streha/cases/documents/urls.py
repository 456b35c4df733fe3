"""URLs of case documents, included by streha/cases/urls.py (app_name "cases"), before the
case-action catch-all. Ids only: titles and file names never enter a URL."""

from django.urls import path

from streha.cases.documents import views as document_views

urlpatterns = [
    path("<uuid:public_id>/documents/", document_views.documents, name="documents"),
    path(
        "<uuid:public_id>/documents/upload/",
        document_views.document_upload,
        name="document_upload",
    ),
    path(
        "<uuid:public_id>/documents/<uuid:document_id>/",
        document_views.document_download,
        name="document",
    ),
    path(
        "<uuid:public_id>/documents/<uuid:document_id>/withdraw/",
        document_views.document_withdraw,
        name="document_withdraw",
    ),
]
