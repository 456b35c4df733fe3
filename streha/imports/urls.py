from django.urls import path

from streha.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.upload, name="upload"),
    path("check/<uuid:public_id>/", views.check, name="check"),
    path("mapping/", views.mapping, name="mapping"),
    path("report/<uuid:public_id>/", views.report, name="report"),
    path("exports/", views.export, name="export"),
    path("exports/<uuid:public_id>/", views.export_download, name="export_download"),
    path("htcds/", views.htcds, name="htcds_export"),
]
