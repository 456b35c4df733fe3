from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from streha.access import policy
from streha.accounts.reauth import check_recent_authentication
from streha.people import statistics


class PersonStatisticsView(APIView):
    """Counts of persons by gender, citizenship or year of birth (small cells suppressed)."""

    @extend_schema(
        parameters=[OpenApiParameter("by", str, enum=sorted(statistics.DIMENSIONS))],
        responses=inline_serializer(
            "PersonCount",
            {
                # A gender or citizenship code, a year of birth, or null (not recorded).
                "value": serializers.JSONField(allow_null=True),
                "count": serializers.IntegerField(allow_null=True),
            },
            many=True,
        ),
    )
    def get(self, request):
        if not policy.can_see_statistics(request.user):
            raise NotFound()
        dimension = request.query_params.get("by", "gender")
        if dimension not in statistics.DIMENSIONS:
            raise ValidationError(
                {
                    "by": [
                        _("One of: %(values)s.")
                        % {"values": ", ".join(sorted(statistics.DIMENSIONS))}
                    ]
                }
            )
        return Response(statistics.person_counts(request.user, dimension))


class PseudonymisedPersonsView(APIView):
    """Persons for analysis: keyed pseudonym and non-identifying fields only."""

    @extend_schema(
        parameters=[OpenApiParameter("offset", int), OpenApiParameter("limit", int)],
        responses=inline_serializer(
            "PseudonymisedPerson",
            {
                "pseudonym": serializers.CharField(),
                "gender": serializers.CharField(),
                "birth_year": serializers.IntegerField(allow_null=True),
                "citizenship": serializers.CharField(),
                "agency_kind": serializers.CharField(),
                "registered_month": serializers.CharField(),
            },
            many=True,
        ),
    )
    def get(self, request):
        if not policy.can_see_statistics(request.user):
            raise NotFound()
        check_recent_authentication(request)
        try:
            offset = max(0, int(request.query_params.get("offset", 0)))
            limit = min(500, max(1, int(request.query_params.get("limit", 100))))
        except ValueError:
            raise ValidationError({"offset": [_("Whole numbers only.")]}) from None
        return Response(
            statistics.pseudonymised_persons(
                request.user, limit=limit, offset=offset, request=request
            )
        )
