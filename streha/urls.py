from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("streha.ops.urls")),
    path("", include("streha.web.urls")),
    path("", include("streha.accounts.urls")),
    path("persons/", include("streha.people.urls")),
    path("audit/", include("streha.audit.urls")),
    path("cases/", include("streha.cases.urls")),
    path("tips/", include("streha.tips.urls")),
    path("statistics/", include("streha.statistics.urls")),
    path("justice/", include("streha.justice.urls")),
    path("", include("streha.tips.public_urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("streha.api.urls")),
    path("jobs/", include("streha.jobs.urls")),
    path("imports/", include("streha.imports.urls")),
    path("duplicates/", include("streha.linkage.urls")),
]
# The Django admin only where enabled (never by default in production), behind the one sign-in.
if settings.STREHA_ADMIN_ENABLED:
    urlpatterns.append(path(f"{settings.STREHA_ADMIN_PATH}/", admin.site.urls))

handler404 = "streha.web.views.handler_404"
handler500 = "streha.ops.unavailable.handler_500"
