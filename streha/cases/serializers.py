"""API shapes of cases, referrals and tasks. Protected case fields appear only for the field
groups the reader holds."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from streha.access import policy
from streha.accounts.models import Agency
from streha.api.serializers import PageQuerySerializer, StrictTextField
from streha.cases.models import (
    AssistanceService,
    Case,
    CaseEvent,
    CaseNote,
    Consent,
    ConsentPurpose,
    ControlMethod,
    Disability,
    ExploitationPlace,
    ExploitationType,
    Notification,
    RecruitmentMethod,
    Referral,
    ReferralStatus,
    ServiceKind,
    ServiceStatus,
    Source,
    Task,
)
from streha.cases.selectors import SORT_KEYS as CASE_SORT_KEYS
from streha.cases.services.profile import PROFILE_FIELDS
from streha.places.catalogues import countries
from streha.places.models import Municipality

CASE_PUBLIC = [
    "public_id",
    "reference",
    "owner_agency",
    "status",
    "version",
    "source",
    "first_contact_on",
    "needs_urgent_shelter",
    "needs_urgent_medical",
    "presumed_on",
    "reflection_ends_on",
    "decided_on",
    "person_informed_on",
    "assisted_voluntary_return",
    "residence_permit_requested_on",
    "next_review_on",
    "closed_on",
    "is_child",
    "age_disputed",
    "needs_guardian",
    "guardian_appointed_on",
    "best_interests_determined_on",
    "sex",
    "age_at_identification",
    "citizenship",
    "languages",
    "disability",
    *PROFILE_FIELDS,
    "assigned_to",
    "opened_at",
]


class CaseSerializer(serializers.ModelSerializer):
    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person = serializers.SerializerMethodField()
    needs_guardian = serializers.BooleanField(read_only=True)
    # The assigned professional's user id (read without a query per case).
    assigned_to = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Case
        fields = [
            *CASE_PUBLIC,
            "person",
            *(n for names in Case.FIELD_GROUPS.values() for n in names),
        ]
        read_only_fields = fields

    def __init__(self, *args, field_groups=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_groups = frozenset(field_groups)
        for group, names in Case.FIELD_GROUPS.items():
            if group not in self.visible_groups:
                for name in names:
                    self.fields.pop(name, None)

    def get_person(self, case) -> str | None:
        return str(case.person.public_id) if "identity" in self.visible_groups else None


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseEvent
        fields = ["at", "actor", "kind", "from_status", "to_status", "details"]


class CaseOpenSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    source = serializers.ChoiceField(choices=Source.choices)
    first_contact_on = serializers.DateField()
    first_contact_place = serializers.CharField(required=False, allow_blank=True, max_length=200)
    needs_urgent_shelter = serializers.BooleanField(required=False)
    needs_urgent_medical = serializers.BooleanField(required=False)
    is_child = serializers.BooleanField(required=False)
    age_disputed = serializers.BooleanField(required=False)
    exploitation_types = serializers.ListField(child=serializers.CharField(), required=False)
    exploitation_places = serializers.ListField(child=serializers.CharField(), required=False)
    recruitment_methods = serializers.ListField(child=serializers.CharField(), required=False)
    control_methods = serializers.ListField(child=serializers.CharField(), required=False)
    transnational = serializers.BooleanField(
        required=False, allow_null=True, help_text="false: internal trafficking; null: unknown"
    )


class CaseSearchSerializer(serializers.Serializer):
    query = StrictTextField(max_length=200)
    page = serializers.IntegerField(required=False, default=1, min_value=1)


class TransitionSerializer(serializers.Serializer):
    """One NRM step. ``action`` names it (a step of the registry of case actions taken through
    this operation); the other fields are those the step needs (its own serializer checks
    them)."""

    action = serializers.ChoiceField(choices=[])

    expected_version = serializers.IntegerField()
    questionnaire = serializers.CharField(required=False, help_text="code, e.g. ilo-forced-labour")
    indicators_met = serializers.ListField(child=serializers.CharField(), required=False)
    presumed = serializers.BooleanField(required=False)
    identified = serializers.BooleanField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True)
    person_informed_on = serializers.DateField(required=False, allow_null=True)
    assisted_voluntary_return = serializers.BooleanField(required=False)
    residence_permit_requested_on = serializers.DateField(required=False, allow_null=True)
    next_review_on = serializers.DateField(required=False, allow_null=True)
    guardian = serializers.CharField(required=False)
    appointed_on = serializers.DateField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from streha.cases.actions import TRANSITION_ACTIONS

        self.fields["action"].choices = list(TRANSITION_ACTIONS)


class ReferralSendSerializer(serializers.Serializer):
    to_agency = serializers.SlugRelatedField(slug_field="code", queryset=Agency.objects.all())
    field_groups = serializers.ListField(child=serializers.CharField(), required=False)
    purpose = serializers.CharField(required=False, allow_blank=True)
    answer_due_on = serializers.DateField(required=False, allow_null=True)


class ReferralSerializer(serializers.ModelSerializer):
    from_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    to_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    case = serializers.SerializerMethodField()

    class Meta:
        model = Referral
        fields = [
            "public_id",
            "case",
            "from_agency",
            "to_agency",
            "field_groups",
            "status",
            "answer_due_on",
            "sent_at",
            "answered_at",
        ]

    def get_case(self, referral) -> str | None:
        """The case id, when the reader may learn it (``policy.referral_reveals_case``)."""
        reader = self.context.get("user")
        if reader is None or not policy.referral_reveals_case(reader, referral):
            return None
        return str(referral.case.public_id)


class AnswerSerializer(serializers.Serializer):
    # Every referral status but "sent", which is where a referral starts, not an answer.
    status = serializers.ChoiceField(
        choices=[(s.value, s.label) for s in ReferralStatus if s != ReferralStatus.SENT]
    )
    reason = serializers.CharField(required=False, allow_blank=True)


class TaskSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "case", "kind", "due_on", "done_at"]


@extend_schema_serializer(many=False)  # a page object, not a list of pages
class CasePageSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="matching cases, counted up to 1000")
    page = serializers.IntegerField()
    pages = serializers.IntegerField(help_text="a page past the last one has no results")
    count_capped = serializers.BooleanField(
        help_text="more than 1000 cases match: only the first 1000 can be paged; filter more"
    )
    too_broad = serializers.BooleanField(
        help_text="the search names too many persons: search by a number or the full name"
    )
    more_results = serializers.BooleanField(
        help_text="a search: more cases match after this page (not counted): ask for the next "
        "page, or refine the search"
    )
    results = CaseSerializer(many=True)


@extend_schema_serializer(many=False)  # a page object, not a list of pages
class ReferralPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = ReferralSerializer(many=True)


# --- Consent, best interests, profile, assignment, notifications ------------------------------

MAX_LIST = 50  # countries or municipalities one case may name


class ConsentSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Consent
        fields = ["id", "purpose", "given", "recorded_on", "recorded_by"]
        read_only_fields = fields


class ExplicitBooleanField(serializers.BooleanField):
    """A boolean that is absent when not sent, also in form-encoded input (where DRF would
    otherwise read a missing box as false: a consent never sent must not become "refused")."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.default_empty_html = serializers.empty  # also over allow_null's None


class ConsentRecordSerializer(serializers.Serializer):
    purpose = serializers.ChoiceField(
        choices=ConsentPurpose.choices,
        help_text="what the person consents (or not) to",
    )
    given = ExplicitBooleanField(help_text="true: consent given; false: refused or withdrawn")


class BestInterestsSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(min_value=1)
    determined_on = serializers.DateField()


class _UniqueListField(serializers.ListField):
    """A list whose repeated items are dropped (the first occurrence keeps its place)."""

    def to_internal_value(self, data):
        return list(dict.fromkeys(super().to_internal_value(data)))


class CountryCodeField(serializers.CharField):
    """An ISO 3166-1 alpha-2 code (XK for Kosovo), case-insensitive on input."""

    default_error_messages = {
        "country": _lazy("Use two-letter ISO 3166 country codes, such as XK or DE."),
    }

    def to_internal_value(self, data):
        code = super().to_internal_value(data).upper()
        if code not in countries:
            self.fail("country")
        return code


def _choices_list(choices, help_text: str):
    return _UniqueListField(
        child=serializers.ChoiceField(choices=choices.choices),
        required=False,
        max_length=len(choices.values),
        help_text=help_text,
    )


def _countries(help_text: str):
    return _UniqueListField(
        child=CountryCodeField(), required=False, max_length=MAX_LIST, help_text=help_text
    )


def _municipalities(help_text: str):
    return _UniqueListField(
        child=serializers.SlugField(max_length=40),
        required=False,
        max_length=MAX_LIST,
        help_text=help_text,
    )


class ProfileSerializer(serializers.Serializer):
    """The exploitation profile of a case. Only the fields sent are changed; an empty list
    clears one."""

    expected_version = serializers.IntegerField(min_value=1)
    exploitation_types = _choices_list(ExploitationType, "HTCDS vic_TypeOfExploitation")
    exploitation_places = _choices_list(ExploitationPlace, "kinds of place")
    transnational = ExplicitBooleanField(
        required=False, allow_null=True, help_text="false: internal trafficking; null: unknown"
    )
    recruitment_countries = _countries("ISO 3166 alpha-2 codes (XK for Kosovo)")
    transit_countries = _countries("ISO 3166 alpha-2 codes (XK for Kosovo)")
    exploitation_countries = _countries("ISO 3166 alpha-2 codes (XK for Kosovo)")
    recruitment_municipalities = _municipalities("municipality codes, see streha loadplaces")
    exploitation_municipalities = _municipalities("municipality codes, see streha loadplaces")
    recruitment_methods = _choices_list(RecruitmentMethod, "HTCDS vic_MethodOfRecruitment")
    control_methods = _choices_list(ControlMethod, "HTCDS vic_MethodsOfControl")
    needs_urgent_shelter = ExplicitBooleanField(required=False)
    needs_urgent_medical = ExplicitBooleanField(required=False)
    age_disputed = ExplicitBooleanField(required=False)
    languages = _UniqueListField(
        child=serializers.CharField(max_length=10),
        required=False,
        max_length=MAX_LIST,
        help_text="ISO 639 language codes",
    )
    disability = serializers.ChoiceField(choices=Disability.choices, required=False)
    ethnicity = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="only for those who may see ethnicity (a special category)",
    )

    def _known_municipalities(self, codes: list[str]) -> list[str]:
        known = set(Municipality.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = {
            i: [_("Unknown municipality code.")] for i, c in enumerate(codes) if c not in known
        }
        if unknown:
            raise serializers.ValidationError(unknown)
        return codes

    def validate_recruitment_municipalities(self, value):
        return self._known_municipalities(value)

    def validate_exploitation_municipalities(self, value):
        return self._known_municipalities(value)

    def validate(self, attrs):
        if not set(attrs) - {"expected_version"}:
            raise serializers.ValidationError(_("Give at least one field to change."))
        return attrs


class AssignSerializer(serializers.Serializer):
    """Name the colleague (of your agency) by user name or by user id."""

    expected_version = serializers.IntegerField(min_value=1)
    username = serializers.CharField(required=False, max_length=150)
    user_id = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if ("username" in attrs) == ("user_id" in attrs):
            raise serializers.ValidationError(
                _("Name the colleague to assign, either by user name or by user id.")
            )
        from streha.cases.services import find_assignee

        assignee = find_assignee(
            username=attrs.pop("username", ""), user_id=attrs.pop("user_id", None)
        )
        return {**attrs, "assignee": assignee}


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "message", "url", "created_at", "read_at"]
        read_only_fields = fields


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="how many notifications were unread and now read")


# --- Inputs of the case actions (streha/cases/actions.py) -------------------------------------
# Each serializer's validated data are the keyword arguments of its action's service, as the
# cleaned data of the action's form are (tests/test_actions.py checks that they agree).


class VersionedSerializer(serializers.Serializer):
    """Carries the case version the client read, for optimistic locking (stale: 409)."""

    expected_version = serializers.IntegerField(min_value=1)


class ScreeningSerializer(VersionedSerializer):
    questionnaire = serializers.CharField(
        required=False, default="", help_text="code, e.g. ilo-forced-labour"
    )
    indicators_met = serializers.ListField(
        child=serializers.CharField(max_length=60), required=False, default=list
    )

    def validate_questionnaire(self, code):
        from streha.cases.models import Questionnaire

        questionnaire = (
            Questionnaire.objects.filter(code=code, is_current=True).order_by("-version").first()
        )
        if questionnaire is None:
            raise serializers.ValidationError(_("Unknown questionnaire."))
        return questionnaire


class ConfirmSerializer(VersionedSerializer):
    presumed = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DecisionSerializer(VersionedSerializer):
    identified = serializers.BooleanField(required=False, default=False)
    # "reason" on the wire (as every other step), the service's "reasons".
    reason = serializers.CharField(source="reasons", required=False, allow_blank=True, default="")
    person_informed_on = serializers.DateField(required=False, allow_null=True, default=None)


class ReturnSerializer(VersionedSerializer):
    assisted_voluntary_return = serializers.BooleanField(required=False, default=False)
    residence_permit_requested_on = serializers.DateField(
        required=False, allow_null=True, default=None
    )
    next_review_on = serializers.DateField()


class FollowUpSerializer(VersionedSerializer):
    next_review_on = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="null: no further review"
    )


class ReasonSerializer(VersionedSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class GuardianSerializer(VersionedSerializer):
    guardian = serializers.CharField(required=False, default="", max_length=200)
    appointed_on = serializers.DateField()


class ServiceAddSerializer(VersionedSerializer):
    kind = serializers.ChoiceField(choices=ServiceKind.choices)
    provider = serializers.SlugRelatedField(
        slug_field="code", queryset=Agency.objects.filter(is_active=True)
    )
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)
    status = serializers.ChoiceField(choices=ServiceStatus.choices, default=ServiceStatus.PLANNED)


class ServiceStatusSerializer(VersionedSerializer):
    service = serializers.IntegerField(min_value=1, help_text="id of one of the case's services")
    status = serializers.ChoiceField(choices=ServiceStatus.choices)

    def validate_service(self, number):
        found = self.context["case"].services.filter(pk=number).first()
        if found is None:
            raise serializers.ValidationError(_("No such service on this case."))
        return found


class NoteAddSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)


class AssistanceServiceSerializer(serializers.ModelSerializer):
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = AssistanceService
        fields = ["id", "kind", "provider", "starts_on", "ends_on", "status"]
        read_only_fields = fields


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseNote
        fields = ["id", "body", "author", "created_at"]
        read_only_fields = fields


class CaseListQuerySerializer(PageQuerySerializer):
    """The case list's query: a page, and filters (an unknown value filters nothing)."""

    status = serializers.CharField(required=False, allow_blank=True, max_length=40)
    source = serializers.CharField(required=False, allow_blank=True, max_length=40)
    exploitation_type = serializers.CharField(required=False, allow_blank=True, max_length=60)
    ordering = serializers.ChoiceField(
        required=False,
        choices=[key for name in CASE_SORT_KEYS for key in (name, f"-{name}")],
        help_text="sort key, '-' first for descending (default -opened); ties by case id",
    )


class ReferralListQuerySerializer(PageQuerySerializer):
    """The referral inbox's query: a page, and a status (an unknown one filters nothing)."""

    status = serializers.CharField(required=False, allow_blank=True, max_length=40)
