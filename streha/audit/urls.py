from django.urls import path

from streha.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.index, name="index"),
    path("reason/", views.consultation_reason, name="consultation_reason"),
    path("persons/<uuid:public_id>/", views.person, name="person"),
    path("users/<int:user_id>/", views.user, name="user"),
    path("break-glass/", views.break_glass, name="break_glass"),
    path("break-glass/<int:pk>/review/", views.break_glass_review, name="break_glass_review"),
]
