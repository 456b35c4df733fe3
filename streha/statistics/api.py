"""Every national table as JSON, with its definition and the suppression rule applied."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from streha.access import policy
from streha.statistics import figures, filters, stored
from streha.statistics.definitions import DEFINITIONS

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
        "as_of": serializers.CharField(),
        "counted_at": serializers.DateTimeField(),
        "counted_live": serializers.BooleanField(),
        "records_changed_since": serializers.BooleanField(),
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
        responses={200: TableSerializer, 409: None},
    )
    def get(self, request, code: str):
        if not policy.can_see_statistics(request.user) or code not in DEFINITIONS:
            raise NotFound()
        year = _year(request)
        try:
            table_filter = filters.parse(request.query_params, code)
        except DjangoValidationError as exc:
            raise ValidationError({"filter": exc.messages}) from exc
        found = stored.figures_for(request.user, code, year, table_filter)
        if found.published is None:
            raise stored.FiguresNotCounted(
                _(
                    "These figures have not been counted yet. The national coordinator's office "
                    "counts them; they are counted every night."
                )
            )
        published = found.published
        definition = published.table.definition
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
                "notes": [str(note) for note in published.table.notes],
                "filter": published.table.filter_label,
                "as_of": stored.as_of_text(found),
                "counted_at": found.counted_at,
                "counted_live": found.live,
                "records_changed_since": found.stale,
            }
        )
