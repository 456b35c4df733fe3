from django.urls import path

from streha.statistics import views

app_name = "statistics"

urlpatterns = [
    path("", views.index, name="index"),
    path("report.pdf", views.report_pdf, name="report_pdf"),
    path("<str:code>/", views.table, name="table"),
]
