from django.urls import path

from streha.tips import views

app_name = "tips"
urlpatterns = [
    path("", views.tip_queue, name="queue"),
    path("phone/", views.phone_call, name="phone"),
    path("campaign/", views.campaign, name="campaign"),
    path("campaign/<slug:slug>/", views.campaign_edit, name="campaign_edit"),
    path("unit/", views.unit, name="unit"),
    path("<uuid:public_id>/", views.tip_detail, name="detail"),
]
