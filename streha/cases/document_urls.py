"""URLs of case documents, included by streha/cases/urls.py."""

urlpatterns: list = []
