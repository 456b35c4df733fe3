"""Shapes of staff-administration resources. Validation of meaning happens in the services."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from streha.accounts.models import Agency, AgencyKind, ApiToken, Role, RoleGrant, TokenScope, User
from streha.web.paging import MAX_PAGE


class AgencySerializer(serializers.ModelSerializer):
    municipality = serializers.SlugRelatedField(slug_field="code", read_only=True)
    region = serializers.SerializerMethodField()

    class Meta:
        model = Agency
        fields = [
            "id",
            "code",
            "name",
            "name_sq",
            "name_sr",
            "name_en",
            "kind",
            "municipality",
            "region",
            "is_active",
        ]

    def get_region(self, agency) -> str | None:
        return agency.municipality.region.code if agency.municipality_id else None


class AgencyWriteSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=60)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AgencyKind.choices)
    # Every agency has a seat (a national one: the municipality of its head office): its
    # region decides regional statistics and work lists, so an agency without one is refused.
    municipality = serializers.SlugField(max_length=40)
    name_sq = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_sr = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)


class AgencyNamesSerializer(serializers.Serializer):
    """An agency's names: the registered one and its translations (any of them)."""

    name = serializers.CharField(max_length=200, required=False)
    name_sq = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_sr = serializers.CharField(max_length=200, required=False, allow_blank=True)
    name_en = serializers.CharField(max_length=200, required=False, allow_blank=True)


class UserSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    roles = serializers.SerializerMethodField()
    pending_roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "email",
            "first_name",
            "last_name",
            "agency",
            "roles",
            "pending_roles",
            "is_active",
            "is_service_account",
        ]

    def get_roles(self, user) -> list[str]:
        """Roles in effect (approved, not revoked)."""
        return sorted(grant.role for grant in user.role_grants.all() if grant.is_effective)

    def get_pending_roles(self, user) -> list[str]:
        """Roles asked for and waiting for a second administrator's approval."""
        return sorted(grant.role for grant in user.role_grants.all() if grant.is_pending)


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(
        help_text=_("The invitation's address; for a service account, whoever runs the client.")
    )
    first_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    agency = serializers.SlugField(
        max_length=60, help_text=_("Agency code; agency administrators may use only their own.")
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False, default=list
    )
    service_account = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("A machine client: API tokens only, never a password sign-in."),
    )


class UserUpdateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False
    )
    is_active = serializers.BooleanField(required=False)


class ApiTokenSerializer(serializers.ModelSerializer):
    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "key_prefix",
            "agency",
            "user",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "scopes",
            "is_active",
        ]


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    user = serializers.IntegerField(help_text=_("Id of the service account the client acts as."))
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=TokenScope.choices),
        min_length=1,
        required=False,
        default=[TokenScope.READ],
        help_text=_("read: GET requests; write: every other method. Default: read."),
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text=_("At most STREHA_API_TOKEN_MAX_DAYS ahead; default 90 days."),
    )


class ApiTokenIssuedSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text=_("Shown only once."))

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class RoleGrantSerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    granted_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    approved_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    revoked_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = RoleGrant
        fields = [
            "id",
            "user",
            "role",
            "granted_by",
            "granted_at",
            "approved_by",
            "approved_at",
            "revoked_by",
            "revoked_at",
        ]


class StrictTextField(serializers.CharField):
    """Text, and only text: a number, a boolean or a list is refused rather than turned into
    a string (a search for 12345 sent as a number is a client's mistake, not a query)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class PageQuerySerializer(serializers.Serializer):
    """The ``page`` of a paged list: a whole number from 1 (``page=null`` or ``page=x`` is a
    400, not silently the first page)."""

    page = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, required=False, default=1)


def page_of(request) -> int:
    """The validated ``page`` query parameter of ``request`` (400 when it is not a page)."""
    query = PageQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["page"]


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(required=False, help_text="messages by field (400 only)")


class ErrorSerializer(serializers.Serializer):
    """Every API error (see streha/api/errors.py); messages never repeat what was sent."""

    error = ErrorBodySerializer()


ERROR_MEANINGS = {
    400: "invalid input (messages by field, never repeating the values sent)",
    401: "no credential, or a wrong, expired or revoked one",
    403: "your role may not do this",
    404: "no such object, or not visible to you",
    409: "the object changed since you read it: reload it, then send the current version",
    429: "too many requests: wait, then try again",
}


def error_responses(*codes: int, **meanings: str) -> dict:
    """Schema entries for the error answers of an operation (one JSON shape for all);
    ``meanings`` (``m403=...``) word one more precisely."""
    from drf_spectacular.utils import OpenApiResponse

    return {
        code: OpenApiResponse(
            ErrorSerializer, description=meanings.get(f"m{code}", ERROR_MEANINGS[code])
        )
        for code in codes
    }


# A public id in an API address: a UUID, exactly (anything else is no address, so a 404).
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
