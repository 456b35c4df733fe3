from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from streha.api import views
from streha.cases import api as cases_api
from streha.justice import api as justice_api
from streha.linkage import api as linkage_api
from streha.people.api import PersonViewSet
from streha.people.statistics_api import PersonStatisticsView, PseudonymisedPersonsView
from streha.statistics.api import StatisticsTableView
from streha.tips import api as tips_api

router = DefaultRouter()
# One URL per resource: no ".json" twins to secure and test separately.
router.include_format_suffixes = False
router.register("agencies", views.AgencyViewSet, basename="agency")
router.register("users", views.UserViewSet, basename="user")
router.register("api-tokens", views.ApiTokenViewSet, basename="api-token")
router.register("role-grants", views.RoleGrantViewSet, basename="role-grant")
router.register("persons", PersonViewSet, basename="person")
for register in (
    cases_api.register,
    tips_api.register,
    justice_api.register,
    linkage_api.register,
):
    register(router)

urlpatterns = [
    path("v1/statistics/persons/", PersonStatisticsView.as_view(), name="person-statistics"),
    path(
        "v1/pseudonymised-persons/",
        PseudonymisedPersonsView.as_view(),
        name="pseudonymised-persons",
    ),
    path(
        "v1/statistics/tables/<str:code>/",
        StatisticsTableView.as_view(),
        name="statistics-table",
    ),
    *(path(route, view.as_view(), name=name) for route, view, name in justice_api.URLS),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
