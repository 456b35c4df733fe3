"""Every national table as JSON, with its definition and the suppression rule applied."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from streha.access import policy
from streha.statistics import figures, filters, selectors
from streha.statistics.definitions import DEFINITIONS
from streha.statistics.publication import publish

TableSerializer = inline_serializer(
    "StatisticsTable",
    {
        "code": serializers.CharField(),
        "year": serializers.IntegerField(),
        "title": serializers.CharField(),
        "unit": serializers.CharField(),
        "reference_date": serializers.CharField(),
        "rule": serializers.CharField(),
        "suppression": serializers.CharField(),
        "header": serializers.ListField(child=serializers.CharField()),
        "rows": serializers.ListField(child=serializers.ListField(child=serializers.JSONField())),
        "notes": serializers.ListField(child=serializers.CharField()),
        "filter": serializers.CharField(),
    },
)


def _year(request) -> int:
    raw = request.query_params.get("year", "")
    if not raw:
        return figures.default_year()
    if not raw.isdigit() or not 1990 <= int(raw) <= 2100:
        raise ValidationError({"year": [_("A year between 1990 and 2100.")]})
    return int(raw)


class StatisticsTableView(APIView):
    """One national table (T01…), small cells suppressed as in every published figure."""

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, description="Calendar year (default: this)"),
            OpenApiParameter("agency_kind", str, description="Filter: kind of agency"),
            OpenApiParameter("region", str, description="Filter: region code"),
            OpenApiParameter("municipality", str, description="Filter: municipality code"),
        ],
        responses={200: TableSerializer},
    )
    def get(self, request, code: str):
        if not policy.can_see_statistics(request.user) or code not in DEFINITIONS:
            raise NotFound()
        year = _year(request)
        try:
            table_filter = filters.parse(request.query_params, code)
        except DjangoValidationError as exc:
            raise ValidationError({"filter": exc.messages}) from exc
        table = figures.table(
            policy.cases_for_statistics(request.user),
            code,
            year,
            tips=policy.tips_for_statistics(request.user),
            criminal_cases=selectors.criminal_cases_for_statistics(request.user),
            table_filter=table_filter,
        )
        published = publish(table)
        definition = table.definition
        return Response(
            {
                "code": code,
                "year": year,
                "title": str(definition.title),
                "unit": str(definition.unit),
                "reference_date": str(definition.reference_date),
                "rule": str(definition.rule),
                "suppression": published.rule,
                "header": published.header,
                "rows": published.rows,
                "notes": [str(note) for note in table.notes],
                "filter": table.filter_label,
            }
        )
