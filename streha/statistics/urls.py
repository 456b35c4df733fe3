from django.urls import path

from streha.statistics import views

app_name = "statistics"

urlpatterns = [
    path("", views.index, name="index"),
    path("count/", views.count, name="count"),
    path("report/", views.report, name="report"),
    path("report/<uuid:public_id>/", views.report_download, name="report_download"),
    path("<str:code>/", views.table, name="table"),
]
