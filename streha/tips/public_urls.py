from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from streha.tips import public_views

app_name = "public"
urlpatterns = [
    path("learn/", public_views.learn_index, name="learn"),
    path("learn/<slug:slug>/", public_views.learn_page, name="learn_page"),
    path("report/", public_views.report, name="report"),
    path("report/follow-up/", public_views.follow_up, name="follow_up"),
    # A short address for posters and radio spots: where to get help.
    path(
        "help/",
        RedirectView.as_view(
            url=reverse_lazy("public:learn_page", args=["get-help"]), query_string=True
        ),
        name="help",
    ),
]
