"""API shapes of a person. Protected fields appear only for the field groups the reader holds."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from streha.access.models import FieldGroup
from streha.api.serializers import StrictTextField
from streha.people.models import Person

PUBLIC_FIELDS = [
    "public_id",
    "reference",
    "owner_agency",
    "gender",
    "birth_year",
    "citizenship",
    "created_at",
    "updated_at",
    "anonymised_at",
]


class PersonSerializer(serializers.ModelSerializer):
    """Read shape. The view passes ``field_groups``; fields of other groups are dropped."""

    owner_agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    field_groups = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            *PUBLIC_FIELDS,
            *(n for names in Person.FIELD_GROUPS.values() for n in names),
            "field_groups",
        ]
        read_only_fields = fields

    def __init__(self, *args, field_groups=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_groups = frozenset(field_groups)
        for group, names in Person.FIELD_GROUPS.items():
            if group not in self.visible_groups:
                for name in names:
                    self.fields.pop(name, None)

    def get_field_groups(self, person) -> list[str]:
        return sorted(self.visible_groups & set(Person.FIELD_GROUPS))


class PersonWriteSerializer(serializers.ModelSerializer):
    """Write shape: validates types and lengths; the service decides what the writer may set."""

    class Meta:
        model = Person
        fields = [
            *(n for names in Person.FIELD_GROUPS.values() for n in names),
            "gender",
            "birth_year",
            "citizenship",
        ]
        extra_kwargs = {"given_name": {"required": True}}

    def validate(self, attrs):
        for name, value in attrs.items():
            if isinstance(value, str) and "\x00" in value:
                raise serializers.ValidationError(
                    {name: _("Text must not contain NUL characters.")}
                )
        return attrs


class BreakGlassSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=32)
    justification = serializers.CharField(max_length=2000)
    field_groups = serializers.ListField(
        child=serializers.ChoiceField(choices=FieldGroup.choices),
        allow_empty=False,
        max_length=len(FieldGroup.choices),
        help_text=_("The parts of the record to open; only these are opened."),
    )


class PersonSearchSerializer(serializers.Serializer):
    query = StrictTextField(max_length=200)
    page = serializers.IntegerField(min_value=1, default=1)


@extend_schema_serializer(many=False)  # a page object, not a list of pages
class PersonPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    more_results = serializers.BooleanField(
        help_text="a search: more persons match after this page (not counted): ask for the next "
        "page, or refine the search"
    )
    results = PersonSerializer(many=True)
