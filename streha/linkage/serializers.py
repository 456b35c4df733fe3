from rest_framework import serializers

from streha.linkage.forms import DECISIONS
from streha.linkage.services import MIN_REASON


class PairSerializer(serializers.Serializer):
    """A possible duplicate: the two references, the probability and the comparison behind it.
    Only for reviewers of both persons (names are on the persons' own endpoints)."""

    id = serializers.UUIDField(source="public_id")
    person_a = serializers.CharField(source="person_a.reference")
    person_b = serializers.CharField(source="person_b.reference")
    match_probability = serializers.FloatField()
    match_weight = serializers.FloatField()
    comparison = serializers.DictField(child=serializers.FloatField())
    status = serializers.CharField()
    version = serializers.IntegerField()


class QueueSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    results = PairSerializer(many=True)
    # Open pairs about the user's persons that the user may not review: ask the national
    # coordinator's office (never which persons).
    not_reviewable = serializers.IntegerField()
    # True when there are more than ``not_reviewable`` (counting stops at 1,000).
    not_reviewable_more = serializers.BooleanField()


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=DECISIONS)
    reason = serializers.CharField(min_length=MIN_REASON, max_length=2000)
    expected_version = serializers.IntegerField(min_value=1, required=False)


class RunSerializer(serializers.Serializer):
    job = serializers.UUIDField()
