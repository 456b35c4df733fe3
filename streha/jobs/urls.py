from django.urls import path

from streha.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<uuid:public_id>/", views.job_detail, name="detail"),
    path("<uuid:public_id>/cancel/", views.job_cancel, name="cancel"),
    path("<uuid:public_id>/rerun/", views.job_rerun, name="rerun"),
    path("<uuid:public_id>/discard/", views.job_discard, name="discard"),
]
