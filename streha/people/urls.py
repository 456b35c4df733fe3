from django.urls import path

from streha.people import views

app_name = "people"
urlpatterns = [
    path("", views.person_list, name="list"),
    path("new/", views.person_create, name="create"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("<uuid:public_id>/", views.person_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.person_edit, name="edit"),
    path("<uuid:public_id>/export/", views.person_export, name="export"),
    path("<uuid:public_id>/documents/", views.document_upload, name="document_upload"),
    path(
        "<uuid:public_id>/documents/<uuid:document_id>/",
        views.document_download,
        name="document_download",
    ),
]
