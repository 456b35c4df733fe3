from django.urls import path

from streha.justice import views

app_name = "justice"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("tasks/", views.my_work, name="my_work"),
    path("tasks/<int:deadline_id>/done/", views.deadline_done, name="deadline_done"),
    path("offences/", views.offences, name="offences"),
    path("statistics/", views.statistics, name="statistics"),
    path("witnesses/", views.witness_list, name="witnesses"),
    path("witnesses/<uuid:witness_id>/resolve/", views.witness_resolve, name="witness_resolve"),
    path("share/<uuid:victim_case_id>/", views.share, name="share"),
    path("<uuid:public_id>/", views.case_detail, name="detail"),
    path("<uuid:public_id>/<slug:step>/", views.case_step, name="step"),
]
