"""Tip-line API for the hotline: the same selectors and services as the pages."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from streha.access import policy
from streha.accounts.models import Agency
from streha.people.models import Gender
from streha.places.models import Municipality
from streha.tips import selectors, services
from streha.tips.models import Category, ConversionKind, Tip, TipStatus


class TipSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    municipality = serializers.SlugRelatedField(slug_field="code", read_only=True)
    assigned_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    case = serializers.SerializerMethodField(
        help_text=_(
            "The victim case opened from this tip (its public id), if any and if you may see it."
        )
    )

    class Meta:
        model = Tip
        fields = [
            "public_id",
            "reference",
            "channel",
            "category",
            "status",
            "priority",
            "immediate_danger",
            "child_involved",
            "municipality",
            "received_on",
            "assigned_agency",
            "converted_kind",
            "converted_to",
            "case",
            "what_seen",
            "where",
            "when",
            "contact",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_case(self, tip):
        """Only for users the access policy lets see the case: the link is itself a fact."""
        request = self.context.get("request")
        if tip.case_id is None or request is None:
            return None
        if not policy.case_access(request.user, tip.case).can_view:
            return None
        return str(tip.case.public_id)


class TipSummarySerializer(TipSerializer):
    class Meta(TipSerializer.Meta):
        fields = [
            f
            for f in TipSerializer.Meta.fields
            if f not in {"what_seen", "where", "when", "contact"}
        ]


class TriageSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    status = serializers.ChoiceField(choices=TipStatus.choices)
    assigned_agency = serializers.SlugField(required=False, allow_null=True)


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=5000)


class PhoneCallSerializer(serializers.Serializer):
    """A hotline call, logged into the same queue as web reports (channel "phone")."""

    what_seen = serializers.CharField(max_length=5000)
    where = serializers.CharField(max_length=500, required=False, allow_blank=True)
    when = serializers.CharField(max_length=200, required=False, allow_blank=True)
    contact = serializers.CharField(max_length=300, required=False, allow_blank=True)
    municipality = serializers.SlugRelatedField(
        slug_field="code", queryset=Municipality.objects.all(), required=False, allow_null=True
    )
    child_involved = serializers.BooleanField(default=False)
    immediate_danger = serializers.BooleanField(default=False)
    category = serializers.ChoiceField(choices=Category.choices, default=Category.UNKNOWN)


class ConvertSerializer(serializers.Serializer):
    """A police report: give its ``reference``. A victim case: it is opened in your agency for
    a presumed victim registered with whatever identity is known (every identity field may be
    left out); the tip's ``case`` and ``converted_to`` then name it."""

    converted_kind = serializers.ChoiceField(
        choices=ConversionKind.choices, default=ConversionKind.POLICE_REPORT
    )
    reference = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=_("Police reports only: the reference of the report."),
    )
    given_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("Victim cases only.")
    )
    family_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text=_("Victim cases only.")
    )
    gender = serializers.ChoiceField(
        choices=Gender.choices, required=False, help_text=_("Victim cases only.")
    )
    birth_year = serializers.IntegerField(
        min_value=1900,
        max_value=9999,
        required=False,
        allow_null=True,
        help_text=_("Victim cases only."),
    )
    citizenship = serializers.CharField(
        max_length=2,
        required=False,
        allow_blank=True,
        help_text=_("The country's two-letter code (ISO 3166), e.g. XK."),
    )
    is_child = serializers.BooleanField(default=False, help_text=_("Victim cases only."))
    needs_urgent_shelter = serializers.BooleanField(
        default=False, help_text=_("Victim cases only.")
    )
    needs_urgent_medical = serializers.BooleanField(
        default=False, help_text=_("Victim cases only.")
    )

    def service_arguments(self) -> dict:
        data = dict(self.validated_data)
        person = {name: data.pop(name) for name in services.PERSON_FIELDS if name in data}
        return {
            "kind": data.pop("converted_kind"),
            "reference": data.pop("reference", ""),
            "person": person,
            **data,
        }


class TipViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    def _require_queue(self, request):
        if not (
            policy.is_hotline_operator(request.user)
            or request.user.has_role(*policy.TIP_ROLES_OF_ASSIGNED_AGENCY)
        ):
            raise NotFound()

    @extend_schema(responses=TipSummarySerializer(many=True))
    def list(self, request):
        """The queue, urgent first; the tips' content is only in the detail (audited)."""
        self._require_queue(request)
        tips = selectors.queue(request.user, status=request.query_params.get("status", "open"))
        return Response(
            TipSummarySerializer(tips[:200], many=True, context={"request": request}).data
        )

    @extend_schema(responses=TipSerializer)
    def retrieve(self, request, public_id=None):
        return Response(
            TipSerializer(
                selectors.read_tip(request.user, public_id, request=request),
                context={"request": request},
            ).data
        )

    @extend_schema(request=PhoneCallSerializer, responses={201: TipSerializer})
    def create(self, request):
        """Log a hotline call (channel "phone"); the same service as the page, audited."""
        policy.require(policy.can_triage_tips(request.user))
        data = PhoneCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tip = services.log_phone_call(request.user, request=request, **data.validated_data)
        return Response(
            TipSerializer(tip, context={"request": request}).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=TriageSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, public_id=None):
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = TriageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data.get("assigned_agency")
        agency = get_object_or_404(Agency, code=code) if code else None
        services.triage(
            request.user,
            tip,
            category=data.validated_data["category"],
            status=data.validated_data["status"],
            assigned_agency=agency,
            request=request,
        )
        return Response(TipSerializer(tip, context={"request": request}).data)

    @extend_schema(request=ReplySerializer, responses={201: ReplySerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, public_id=None):
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.reply(request.user, tip, data.validated_data["body"], request=request)
        return Response({"body": message.body}, status=201)

    @extend_schema(request=ConvertSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def convert(self, request, public_id=None):
        """Record the police report the tip became, or open a victim case from it (a presumed
        person and a case in your agency, in one transaction); the tip keeps the link."""
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = ConvertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.convert(request.user, tip, request=request, **data.service_arguments())
        return Response(TipSerializer(tip, context={"request": request}).data)


def register(router) -> None:
    router.register("tips", TipViewSet, basename="tip")
