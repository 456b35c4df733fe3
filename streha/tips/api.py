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
from streha.tips.unlock import member_key


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
            "sealed",
            "what_seen",
            "where",
            "when",
            "contact",
            "contact_may_be_shared",
            "forwarded_text",
            "forwarded_contact",
        ]
        read_only_fields = fields

    sealed = serializers.SerializerMethodField(
        help_text=_(
            "True when the report is sealed and you cannot open it here: the hotline unit opens "
            "it in a signed-in browser session; an assigned agency reads what was forwarded."
        )
    )
    what_seen = serializers.SerializerMethodField()
    where = serializers.SerializerMethodField()
    when = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    contact_may_be_shared = serializers.SerializerMethodField()

    def _report(self):
        return self.context.get("report")

    @extend_schema_field(serializers.BooleanField())
    def get_sealed(self, tip):
        return self._report() is None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_what_seen(self, tip):
        report = self._report()
        return report.what_seen if report else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_where(self, tip):
        report = self._report()
        return report.where if report else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_when(self, tip):
        report = self._report()
        return report.when if report else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_contact(self, tip):
        report = self._report()
        return report.contact if report else None

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_contact_may_be_shared(self, tip):
        report = self._report()
        return report.contact_may_be_shared if report else None

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
            if f
            not in {
                "sealed",
                "what_seen",
                "where",
                "when",
                "contact",
                "contact_may_be_shared",
                "forwarded_text",
                "forwarded_contact",
            }
        ]


class TriageSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    status = serializers.ChoiceField(choices=TipStatus.choices)
    assigned_agency = serializers.SlugField(required=False, allow_null=True)
    forwarded_text = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        help_text=_("What the assigned agency may read; nothing else of the report goes to it."),
    )
    forward_contact = serializers.BooleanField(
        default=False,
        help_text=_("Pass on the reporter's contact; only if the reporter agreed."),
    )


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
    contact_may_be_shared = serializers.BooleanField(default=False)


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
        if not policy.can_see_tip_queue(request.user):
            raise NotFound()

    def _detail(self, request, tip, **kwargs):
        """The tip as this user may read it: the sealed report only for a member of the unit
        whose key is unlocked in this (browser) session; forwarded text for an agency."""
        report = None
        if policy.can_read_tip_content(request.user):
            report = selectors.open_report(request.user, member_key(request), tip)
        data = TipSerializer(tip, context={"request": request, "report": report}).data
        if policy.can_read_tip_content(request.user):
            data["forwarded_text"] = tip.forwarded_text
            data["forwarded_contact"] = tip.forwarded_contact
        return Response(data, **kwargs)

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
        return self._detail(request, selectors.read_tip(request.user, public_id, request=request))

    @extend_schema(request=PhoneCallSerializer, responses={201: TipSerializer})
    def create(self, request):
        """Log a hotline call (channel "phone"); the same service as the page, audited."""
        policy.require(policy.can_triage_tips(request.user))
        data = PhoneCallSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tip = services.log_phone_call(request.user, request=request, **data.validated_data)
        return self._detail(request, tip, status=status.HTTP_201_CREATED)

    @extend_schema(request=TriageSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def triage(self, request, public_id=None):
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = TriageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        code = data.validated_data.get("assigned_agency")
        agency = get_object_or_404(Agency, code=code) if code else None
        report = None
        if data.validated_data["forward_contact"]:
            report = selectors.open_report(request.user, member_key(request), tip)
        services.triage(
            request.user,
            tip,
            category=data.validated_data["category"],
            status=data.validated_data["status"],
            assigned_agency=agency,
            forwarded_text=data.validated_data.get("forwarded_text", ""),
            forward_contact=data.validated_data["forward_contact"],
            report=report,
            request=request,
        )
        return self._detail(request, tip)

    @extend_schema(request=ReplySerializer, responses={201: ReplySerializer})
    @action(detail=True, methods=["post"])
    def reply(self, request, public_id=None):
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = ReplySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reply(request.user, tip, data.validated_data["body"], request=request)
        return Response({"body": data.validated_data["body"]}, status=201)

    @extend_schema(request=ConvertSerializer, responses=TipSerializer)
    @action(detail=True, methods=["post"])
    def convert(self, request, public_id=None):
        """Record the police report the tip became, or open a victim case from it (a presumed
        person and a case in your agency, in one transaction); the tip keeps the link."""
        tip = selectors.read_tip(request.user, public_id, request=request)
        data = ConvertSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.convert(request.user, tip, request=request, **data.service_arguments())
        return self._detail(request, tip)


def register(router) -> None:
    router.register("tips", TipViewSet, basename="tip")
