from django.urls import path

from streha.accounts import views

app_name = "accounts"
urlpatterns = [
    path("agencies/", views.agency_list, name="agency_list"),
    path("staff/", views.user_list, name="user_list"),
    path("staff/new/", views.user_create, name="user_create"),
    path("staff/<int:pk>/", views.user_edit, name="user_edit"),
    path("staff/<int:pk>/reset-two-factor/", views.user_reset_two_factor, name="user_reset_2fa"),
    path(
        "staff/<int:pk>/remind-two-factor/",
        views.user_remind_two_factor,
        name="user_remind_2fa",
    ),
    path("staff/approvals/", views.role_approvals, name="role_approvals"),
    path(
        "staff/grants/<int:pk>/approve/",
        views.role_grant_decide,
        {"decision": "approve"},
        name="role_grant_approve",
    ),
    path(
        "staff/grants/<int:pk>/revoke/",
        views.role_grant_decide,
        {"decision": "revoke"},
        name="role_grant_revoke",
    ),
    path("api-tokens/", views.token_list, name="token_list"),
    path("api-tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("security/", views.security, name="security"),
]
