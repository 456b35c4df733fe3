"""The application's URLs plus an empty view: the floor every page figure is compared with."""

from django.http import HttpResponse
from django.urls import path

from streha.urls import handler404, handler500  # noqa: F401
from streha.urls import urlpatterns as app_urlpatterns


def empty(request):
    return HttpResponse(b"")


urlpatterns = [path("_floor/", empty), *app_urlpatterns]
