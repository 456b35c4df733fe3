from django.urls import path

from streha.cases import notification_views, views
from streha.cases.documents import urls as document_urls

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/<uuid:person_id>/", views.case_create, name="create"),
    path("referrals/", views.referral_inbox, name="inbox"),
    path("referrals/<uuid:public_id>/", views.referral_detail, name="referral"),
    path("tasks/", views.my_work, name="my_work"),
    path("tasks/<int:task_id>/done/", views.task_done, name="task_done"),
    path(
        "notifications/<int:notification_id>/read/",
        notification_views.notification_read,
        name="notification_read",
    ),
    path("notifications/read/", notification_views.notifications_read, name="notifications_read"),
    path("<uuid:public_id>/", views.case_detail, name="detail"),
    *document_urls.urlpatterns,
    path("<uuid:public_id>/<slug:action>/", views.case_act, name="act"),
]
