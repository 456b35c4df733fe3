from django.urls import path

from streha.linkage import views

app_name = "linkage"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("run/", views.run, name="run"),
    path("<uuid:public_id>/", views.pair, name="pair"),
    path("<uuid:public_id>/undo/", views.undo, name="undo"),
]
