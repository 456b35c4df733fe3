"""Criminal cases API: the same selectors, steps and services as the pages.

Every step of ``streha.justice.actions.ACTIONS`` is an operation ``POST
/api/v1/criminal-cases/{public_id}/{step}/`` whose body the step's form validates (so the page
and the API accept exactly the same input); its OpenAPI request schema is derived from that
form. Errors: 400 (fields), 404 (outside the user's scope, or a step the user is not offered;
never 403, which would confirm the case exists).
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from streha.access import policy
from streha.justice import catalogue, selectors, services
from streha.justice import forms as step_forms
from streha.justice.actions import ACTIONS
from streha.justice.models import Offence

# --- Schemas derived from the forms -------------------------------------------------------------


def _field(form_field: forms.Field) -> serializers.Field:
    required = form_field.required
    common = {"required": required, "help_text": str(form_field.label or "")}
    if isinstance(form_field, forms.ModelMultipleChoiceField):
        return serializers.ListField(child=serializers.CharField(), **common)
    if isinstance(form_field, forms.ModelChoiceField):
        return serializers.CharField(allow_blank=not required, **common)
    if isinstance(form_field, forms.MultipleChoiceField):
        choices = [(value, label) for value, label in form_field.choices if value != ""]
        return serializers.ListField(child=serializers.ChoiceField(choices=choices), **common)
    if isinstance(form_field, forms.ChoiceField):
        choices = [(value, label) for value, label in form_field.choices if value != ""]
        if choices:
            return serializers.ChoiceField(choices=choices, allow_blank=not required, **common)
        return serializers.CharField(**common)
    if isinstance(form_field, forms.BooleanField):
        return serializers.BooleanField(required=False, help_text=common["help_text"])
    if isinstance(form_field, forms.DateField):
        return serializers.DateField(allow_null=not required, **common)
    if isinstance(form_field, forms.DecimalField):
        return serializers.DecimalField(
            max_digits=12, decimal_places=2, allow_null=not required, **common
        )
    if isinstance(form_field, forms.IntegerField):
        return serializers.IntegerField(allow_null=not required, **common)
    return serializers.CharField(allow_blank=not required, **common)


def serializer_for(name: str, form_class: type[forms.Form]) -> type[serializers.Serializer]:
    """The request schema of a step, from its form's fields (documentation: the form
    validates)."""
    fields = {key: _field(field) for key, field in form_class.base_fields.items()}
    class_name = "".join(part.title() for part in name.split("_")) + "StepSerializer"
    return type(class_name, (serializers.Serializer,), fields)


class JusticeErrorSerializer(serializers.Serializer):
    error = serializers.DictField()


class CriminalCaseRowSerializer(serializers.Serializer):
    public_id = serializers.CharField()
    reference = serializers.CharField()
    stage = serializers.CharField()
    stage_label = serializers.CharField()
    opened_on = serializers.DateField()
    office = serializers.CharField()
    reclassified = serializers.BooleanField()
    below_minimum = serializers.BooleanField()


class CriminalCasePageSerializer(serializers.Serializer):
    """A page of the list, found without counting every case (pages stop at 40)."""

    count = serializers.IntegerField(
        help_text="Cases up to the end of this page; the total when count_capped is false."
    )
    count_capped = serializers.BooleanField(help_text="More cases follow this page.")
    page = serializers.IntegerField()
    pages = serializers.IntegerField(help_text="Pages known: this one, and the next if any.")
    results = CriminalCaseRowSerializer(many=True)


class CaseSheetSerializer(serializers.Serializer):
    """The case as the user may see it: the same sheet the page prints. Parts the user may
    not see are absent (a victim advocate sees the injured parties only)."""

    id = serializers.CharField()
    reference = serializers.CharField()
    stage = serializers.CharField()
    events = serializers.ListField(child=serializers.DictField(), required=False)
    defendants = serializers.ListField(child=serializers.DictField(), required=False)
    injured_parties = serializers.ListField(child=serializers.DictField())
    witnesses = serializers.ListField(child=serializers.DictField(), required=False)


class OpenCaseSerializer(serializers.Serializer):
    opened_on = serializers.DateField()
    police_number = serializers.CharField(required=False, allow_blank=True)
    prosecution_office = serializers.CharField(required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    victim_case = serializers.UUIDField(required=False, allow_null=True)


class ResolveSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=10, max_length=1000)


class ResolutionSerializer(serializers.Serializer):
    witness = serializers.CharField()
    person = serializers.DictField(allow_null=True)


class ShareSerializer(serializers.Serializer):
    victim_case = serializers.UUIDField()
    office = serializers.CharField()
    field_groups = serializers.ListField(child=serializers.CharField())


class OffenceSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="criminal_code.code")
    series_break = serializers.BooleanField(source="criminal_code.series_break")
    title = serializers.CharField()

    class Meta:
        model = Offence
        fields = [
            "id",
            "code",
            "key",
            "article",
            "paragraph",
            "title",
            "title_sq",
            "title_sr",
            "title_en",
            "scope",
            "iccs",
            "min_months",
            "max_months",
            "fine",
            "valid_from",
            "valid_to",
            "unconfirmed",
            "series_break",
        ]


class DeadlineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    case = serializers.CharField(source="case.public_id")
    reference = serializers.CharField(source="case.reference")
    kind = serializers.CharField()
    due_on = serializers.DateField()


def _errors(*codes: int) -> dict:
    meaning = {
        400: "invalid input (messages by field, never repeating the values sent)",
        403: "the step belongs to another office in this case (code not_allowed)",
        404: "no such case, not visible to you, or not a step you may take now",
        409: "the proceedings as recorded do not allow the step now (code refused)",
    }
    return {
        code: OpenApiResponse(JusticeErrorSerializer, description=meaning[code]) for code in codes
    }


def _form_errors(form) -> ValidationError:
    return ValidationError({field: list(errors) for field, errors in form.errors.items()})


def _sheet(request, public_id) -> Response:
    view = selectors.read_case(request.user, public_id, request=request)
    return Response(selectors.case_sheet(view, request=request))


# --- Criminal cases -----------------------------------------------------------------------------


class CriminalCaseViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("stage", str),
            OpenApiParameter("offence", str, description="offence key, e.g. trafficking"),
            OpenApiParameter("office", str, description="prosecution office code"),
            OpenApiParameter("year", int),
            OpenApiParameter("reclassified", bool),
            OpenApiParameter("below_minimum", bool),
        ],
        responses={200: CriminalCasePageSerializer, **_errors(400)},
    )
    def list(self, request):
        filters = step_forms.FilterForm(request.query_params)
        if not filters.is_valid():
            raise _form_errors(filters)
        cleaned = filters.cleaned_data
        page = selectors.list_cases(
            request.user,
            stage=cleaned["stage"],
            offence=cleaned["offence"],
            office=cleaned["office"],
            year=cleaned["year"],
            reclassified=cleaned["reclassified"],
            below_minimum=cleaned["below_minimum"],
            page=request.query_params.get("page", 1),
            request=request,
        )
        rows = selectors.case_rows(page)
        return Response(
            {
                "count": page.count,
                "count_capped": page.more,
                "page": page.number,
                "pages": page.pages,
                "results": [
                    {key: row[key] for key in CriminalCaseRowSerializer().fields} for row in rows
                ],
            }
        )

    @extend_schema(request=OpenCaseSerializer, responses={201: CaseSheetSerializer, **_errors(400)})
    def create(self, request):
        policy.require(policy.can_open_criminal_cases(request.user))
        data = OpenCaseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        victim_id = fields.pop("victim_case", None)
        victim_case = None
        if victim_id:
            victim_case = policy.cases_visible_to(request.user).filter(public_id=victim_id).first()
            if victim_case is None:
                raise ValidationError({"victim_case": _("No such victim case.")})
        office_code = fields.pop("prosecution_office", "")
        office = None
        if office_code:
            office = services.prosecution_offices().filter(code=office_code).first()
            if office is None:
                raise ValidationError({"prosecution_office": _("Choose a prosecution office.")})
        case = services.open_case(
            request.user,
            victim_case=victim_case,
            prosecution_office=office,
            request=request,
            **fields,
        )
        response = _sheet(request, case.public_id)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(responses={200: CaseSheetSerializer, **_errors(404)})
    def retrieve(self, request, public_id=None):
        return _sheet(request, public_id)

    @extend_schema(responses={200: serializers.ListSerializer(child=serializers.CharField())})
    @action(detail=True, methods=["get"])
    def steps(self, request, public_id=None):
        """The names of the steps the user may take on the case now."""
        from streha.justice.actions import offered_actions

        view = selectors.read_case(request.user, public_id, request=request)
        return Response(offered_actions(view))


def _step_action(name: str):
    step = ACTIONS[name]

    def run(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        if not step.offered(view):
            raise Http404
        form = step.form(data=request.data, case=view.case, access=view.access, user=request.user)
        if not form.is_valid():
            raise _form_errors(form)
        try:
            step.take(view, form.cleaned_data, request=request)
        except PermissionDenied as error:
            raise Http404 from error
        return _sheet(request, public_id)

    run.__name__ = f"step_{name}"
    with translation.override("en"):
        summary = str(step.label)
    schema = extend_schema(
        summary=summary,
        description=step.description or summary,
        request=serializer_for(name, step.form),
        responses={200: CaseSheetSerializer, **_errors(400, 403, 404, 409)},
        operation_id=f"criminal_cases_step_{name}",
    )
    return schema(action(detail=True, methods=["post"], url_path=name.replace("_", "-"))(run))


for _name in ACTIONS:
    setattr(CriminalCaseViewSet, f"step_{_name}", _step_action(_name))


# --- Witnesses, offences, deadlines, sharing, statistics ----------------------------------------


class WitnessViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(
        request=ResolveSerializer,
        responses={200: ResolutionSerializer, **_errors(400, 404)},
        description="Resolve a pseudonym to the person: for the prosecutor handling the case "
        "and the witness protection unit only; anyone else gets 404, as for an unknown "
        "witness. Audited with the reason.",
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, public_id=None):
        if not policy.witnesses_resolvable_by(request.user).filter(public_id=public_id).exists():
            raise Http404
        data = ResolveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resolution = services.resolve_witness(
            request.user, public_id, reason=data.validated_data["reason"], request=request
        )
        person = resolution.person
        response = Response(
            {
                "witness": selectors.witness_label(resolution.witness),
                "person": None
                if person is None
                else {
                    "public_id": str(person.public_id),
                    "reference": person.reference,
                    "given_name": person.given_name,
                    "family_name": person.family_name,
                },
            }
        )
        response["Cache-Control"] = "no-store"
        return response


class OffenceViewSet(viewsets.ReadOnlyModelViewSet):
    """The offence catalogue (public law, no personal data): any signed-in staff member."""

    serializer_class = OffenceSerializer
    queryset = Offence.objects.none()
    pagination_class = None  # a few dozen articles per country

    def get_queryset(self):
        return catalogue.offences_for_charges()


class DeadlineViewSet(viewsets.ViewSet):
    @extend_schema(responses=DeadlineSerializer(many=True))
    def list(self, request):
        deadlines = policy.justice_deadlines_for(request.user).select_related("case")
        return Response(
            DeadlineSerializer(deadlines.order_by("due_on", "pk")[:200], many=True).data
        )


class VictimCaseShareView(APIView):
    @extend_schema(request=ShareSerializer, responses={201: None, **_errors(400, 404)})
    def post(self, request):
        """Share field groups of a victim case with a prosecution office."""
        data = ShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        victim_case = (
            policy.cases_visible_to(request.user)
            .filter(public_id=data.validated_data["victim_case"])
            .first()
        )
        if victim_case is None or not policy.can_share_with_prosecution(request.user, victim_case):
            raise Http404
        office = services.prosecution_offices().filter(code=data.validated_data["office"]).first()
        if office is None:
            raise ValidationError({"office": _("Choose a prosecution office.")})
        services.share_victim_case(
            request.user,
            victim_case,
            office=office,
            field_groups=data.validated_data["field_groups"],
            request=request,
        )
        return Response(status=status.HTTP_201_CREATED)


class FunnelView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("year", int)], responses={200: dict, **_errors(404)}
    )
    def get(self, request):
        """The attrition funnel of a year (period view), counts only."""
        if not policy.can_see_justice_statistics(request.user):
            raise Http404
        year = request.query_params.get("year", "")
        if not (year.isdecimal() and 1999 < int(year) < 2101):
            year = timezone.localdate().year
        return Response(selectors.attrition_funnel(request.user, int(year)))


def register(router) -> None:
    router.register("criminal-cases", CriminalCaseViewSet, basename="criminal-case")
    router.register("witnesses", WitnessViewSet, basename="witness")
    router.register("offences", OffenceViewSet, basename="offence")
    router.register("justice-deadlines", DeadlineViewSet, basename="justice-deadline")


URLS = [
    ("v1/victim-case-shares/", VictimCaseShareView, "victim-case-share"),
    ("v1/statistics/justice-funnel/", FunnelView, "justice-funnel"),
]
