"""The application's URLs under a prefix (test_navigation: a URL configuration of its own)."""

from django.urls import include, path

urlpatterns = [path("prefixed/", include("streha.urls"))]
