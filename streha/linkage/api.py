"""Duplicate review API: the same selectors and services as the HTML pages."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from streha.access import policy
from streha.jobs.services import start_job
from streha.linkage import jobs, selectors, services
from streha.linkage.serializers import (
    DecisionSerializer,
    PairSerializer,
    QueueSerializer,
    RunSerializer,
)


class DuplicatePairViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("status", str)],
        responses=QueueSerializer,
    )
    def list(self, request):
        if not policy.can_see_duplicate_queue(request.user):
            return Response(
                {
                    "count": 0,
                    "page": 1,
                    "pages": 1,
                    "results": [],
                    "not_reviewable": 0,
                    "not_reviewable_more": False,
                }
            )
        result = selectors.review_queue(
            request.user,
            status=request.query_params.get("status", "open"),
            page=request.query_params.get("page", 1),
        )
        return Response(
            {
                "count": result.page.paginator.count,
                "page": result.page.number,
                "pages": result.page.paginator.num_pages,
                "results": PairSerializer(result.page.object_list, many=True).data,
                "not_reviewable": result.hidden,
                "not_reviewable_more": result.hidden_more,
            }
        )

    @extend_schema(responses=PairSerializer)
    def retrieve(self, request, public_id=None):
        pair = selectors.read_pair(request.user, public_id, request=request)
        return Response(PairSerializer(pair).data)

    @extend_schema(request=DecisionSerializer, responses=PairSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, public_id=None):
        pair = selectors.read_pair(request.user, public_id, request=request)
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.decide_pair(request.user, pair, **data.validated_data, request=request)
        return Response(PairSerializer(pair).data)

    @extend_schema(request=None, responses=PairSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request, public_id=None):
        pair = selectors.read_pair(request.user, public_id, request=request)
        pair = services.undo_decision(request.user, pair, request=request)
        return Response(PairSerializer(pair).data)

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=False, methods=["post"])
    def run(self, request):
        """Start a deduplication run (the national coordinator's office); see /api/v1/jobs."""
        if not policy.can_run_deduplication(request.user):
            raise Http404
        job = start_job(jobs.KIND, request.user, {})
        return Response({"job": job.public_id}, status=status.HTTP_202_ACCEPTED)


def register(router) -> None:
    router.register("duplicate-pairs", DuplicatePairViewSet, basename="duplicate-pair")
