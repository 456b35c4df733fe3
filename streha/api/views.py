"""Staff-administration API. Querysets come from the access policy; writes go to services."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from streha.access import policy
from streha.accounts import services
from streha.accounts.models import Agency, RoleGrant
from streha.api import serializers
from streha.places.models import Municipality


class AgencyViewSet(
    mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    serializer_class = serializers.AgencySerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["kind", "is_active"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return policy.agencies_visible_to(self.request.user)

    @extend_schema(
        request=serializers.AgencyWriteSerializer,
        responses={201: serializers.AgencySerializer, **serializers.error_responses(400, 403)},
    )
    def create(self, request, *args, **kwargs):
        policy.require(policy.can_manage_agencies(request.user))  # 403 before any 400
        data = serializers.AgencyWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        municipality_code = values.pop("municipality", None)
        municipality = None
        if municipality_code:
            municipality = Municipality.objects.filter(code=municipality_code).first()
            if municipality is None:
                raise ValidationError({"municipality": [_("Unknown municipality code.")]})
        agency = services.create_agency(request.user, municipality=municipality, **values)
        return Response(serializers.AgencySerializer(agency).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.AgencyNamesSerializer, responses={200: serializers.AgencySerializer}
    )
    def partial_update(self, request, *args, **kwargs):
        """Rename an agency or translate its name (system administrators)."""
        agency = self.get_object()
        data = serializers.AgencyNamesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agency = services.rename_agency(request.user, agency, **data.validated_data)
        return Response(serializers.AgencySerializer(agency).data)


class UserViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    serializer_class = serializers.UserSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return policy.users_visible_to(self.request.user).order_by("username")

    @extend_schema(responses=serializers.UserSerializer)
    @action(detail=False, methods=["get"])
    def me(self, request):
        return Response(serializers.UserSerializer(request.user).data)

    @extend_schema(
        request=serializers.UserCreateSerializer, responses={201: serializers.UserSerializer}
    )
    def create(self, request, *args, **kwargs):
        data = serializers.UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        agency = Agency.objects.filter(code=values.pop("agency")).first()
        if agency is None or not policy.can_administer_agency(request.user, agency):
            raise NotFound()
        user = services.create_user(request.user, agency=agency, request=request, **values)
        user = self.get_queryset().get(pk=user.pk)
        return Response(serializers.UserSerializer(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.UserUpdateSerializer, responses=serializers.UserSerializer)
    def partial_update(self, request, *args, **kwargs):
        user = self.get_object()
        data = serializers.UserUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.update_user(request.user, user, request=request, **data.validated_data)
        return Response(serializers.UserSerializer(self.get_queryset().get(pk=user.pk)).data)

    def update(self, request, *args, **kwargs):
        if not kwargs.get("partial"):
            return self.http_method_not_allowed(request, *args, **kwargs)
        return self.partial_update(request, *args, **kwargs)


class ApiTokenViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = serializers.ApiTokenSerializer

    def get_queryset(self):
        return policy.api_tokens_visible_to(self.request.user)

    @extend_schema(
        request=serializers.ApiTokenCreateSerializer,
        responses={201: serializers.ApiTokenIssuedSerializer},
    )
    def create(self, request, *args, **kwargs):
        data = serializers.ApiTokenCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = get_object_or_404(policy.users_visible_to(request.user), pk=values.pop("user"))
        token, secret = services.issue_api_token(request.user, user=user, request=request, **values)
        body = serializers.ApiTokenSerializer(token).data | {"token": secret}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ApiTokenSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        token = services.revoke_api_token(request.user, self.get_object(), request=request)
        return Response(serializers.ApiTokenSerializer(token).data)


class RoleGrantViewSet(viewsets.ReadOnlyModelViewSet):
    """Role grants of the accounts the user administers, with their history; approving and
    revoking go to the services (a second administrator, never one's own)."""

    serializer_class = serializers.RoleGrantSerializer

    def get_queryset(self):
        users = policy.users_administrable_by(self.request.user)
        return (
            RoleGrant.objects.filter(user__in=users)
            .select_related("user", "granted_by", "approved_by", "revoked_by")
            .order_by("-granted_at", "-pk")
        )

    @extend_schema(request=None, responses=serializers.RoleGrantSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        grant = services.approve_role_grant(request.user, self.get_object(), request=request)
        return Response(serializers.RoleGrantSerializer(grant).data)

    @extend_schema(request=None, responses=serializers.RoleGrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        grant = services.revoke_role_grant(request.user, self.get_object(), request=request)
        return Response(serializers.RoleGrantSerializer(grant).data)
