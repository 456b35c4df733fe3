"""API shapes of cases, referrals and tasks. Protected case fields appear only for the field
groups the reader holds."""

from rest_framework import serializers

from streha.accounts.models import Agency
from streha.cases.models import Case, CaseEvent, Referral, Source, Task

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
    "exploitation_types",
    "exploitation_places",
    "transnational",
    "recruitment_countries",
    "transit_countries",
    "exploitation_countries",
    "recruitment_methods",
    "control_methods",
    "opened_at",
]


class CaseSerializer(serializers.ModelSerializer):
    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    person = serializers.SerializerMethodField()
    needs_guardian = serializers.BooleanField(read_only=True)

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


class CaseSearchSerializer(serializers.Serializer):
    query = serializers.CharField(max_length=200)
    page = serializers.IntegerField(required=False, default=1, min_value=1)


class TransitionSerializer(serializers.Serializer):
    """One NRM step. ``action`` names it; the other fields are those the step needs."""

    action = serializers.ChoiceField(
        choices=[
            "screen",
            "confirm",
            "decide",
            "assist",
            "return",
            "follow_up",
            "close",
            "reopen",
            "guardian",
        ]
    )
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
        # The receiver learns the case id only once it may open the case.
        if referral.status in ("sent", "declined") and referral.to_agency_id == self.context.get(
            "agency_id"
        ):
            return None
        return str(referral.case.public_id)


class AnswerSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["accepted", "declined", "in_progress", "completed"])
    reason = serializers.CharField(required=False, allow_blank=True)


class TaskSerializer(serializers.ModelSerializer):
    case = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    kind = serializers.CharField(read_only=True)

    class Meta:
        model = Task
        fields = ["id", "case", "kind", "due_on", "done_at"]


class CasePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = CaseSerializer(many=True)


class ReferralPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = ReferralSerializer(many=True)
