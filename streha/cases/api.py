"""Cases API: the same selectors and services as the HTML pages."""

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from streha.access import policy
from streha.cases import document_api, selectors, services
from streha.cases.models import Questionnaire
from streha.cases.serializers import (
    AnswerSerializer,
    CaseOpenSerializer,
    CasePageSerializer,
    CaseSearchSerializer,
    CaseSerializer,
    EventSerializer,
    ReferralPageSerializer,
    ReferralSendSerializer,
    ReferralSerializer,
    TaskSerializer,
    TransitionSerializer,
)
from streha.people.selectors import read_person


class Conflict(APIException):
    """409: the case changed since the client read it (optimistic locking)."""

    status_code = http.HTTP_409_CONFLICT
    default_code = "conflict"


def _page(request, page, serializer):
    return Response(
        {
            "count": page.paginator.count,
            "page": page.number,
            "pages": page.paginator.num_pages,
            "results": [serializer(item) for item in page],
        }
    )


class CaseViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    def _case_page(self, request, **filters):
        page = selectors.list_cases(request.user, request=request, **filters)
        return _page(request, page, lambda case: CaseSerializer(case).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int),
            OpenApiParameter("status", str),
            OpenApiParameter("source", str),
            OpenApiParameter("exploitation_type", str),
        ],
        responses=CasePageSerializer,
    )
    def list(self, request):
        params = request.query_params
        return self._case_page(
            request,
            status=params.get("status", ""),
            source=params.get("source", ""),
            exploitation_type=params.get("exploitation_type", ""),
            page=params.get("page", 1),
        )

    @extend_schema(request=CaseSearchSerializer, responses=CasePageSerializer)
    @action(detail=False, methods=["post"])
    def search(self, request):
        """Exact search by blind index (name, personal or passport number) or case reference.
        A POST, so names and numbers never appear in URLs or access logs."""
        data = CaseSearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._case_page(
            request, query=data.validated_data["query"], page=data.validated_data["page"]
        )

    @extend_schema(responses=CaseSerializer)
    def retrieve(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        return Response(CaseSerializer(view.case, field_groups=view.access.field_groups).data)

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer})
    def create(self, request):
        policy.require(policy.can_open_cases(request.user))
        data = CaseOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        person = read_person(request.user, fields.pop("person"), request=request).person
        case = services.open_case(request.user, person, request=request, **fields)
        groups = policy.case_access(request.user, case).field_groups
        return Response(
            CaseSerializer(case, field_groups=groups).data, status=http.HTTP_201_CREATED
        )

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def timeline(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        return Response(EventSerializer(selectors.timeline(view.case), many=True).data)

    @extend_schema(request=TransitionSerializer, responses={200: CaseSerializer, 409: dict})
    @action(detail=True, methods=["post"])
    def transition(self, request, public_id=None):
        """Move the case one NRM step. A stale ``expected_version`` answers 409."""
        view = selectors.read_case(request.user, public_id, request=request)
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        user, case, v = request.user, view.case, d["expected_version"]
        kw = {"expected_version": v, "request": request}
        try:
            match d["action"]:
                case "screen":
                    questionnaire = (
                        Questionnaire.objects.filter(
                            code=d.get("questionnaire", ""), is_current=True
                        )
                        .order_by("-version")
                        .first()
                    )
                    if questionnaire is None:
                        raise ValidationError({"questionnaire": "Unknown questionnaire."})
                    services.record_screening(
                        user,
                        case,
                        questionnaire=questionnaire,
                        indicators_met=d.get("indicators_met", []),
                        **kw,
                    )
                case "confirm":
                    services.confirm_screening(
                        user,
                        case,
                        presumed=d.get("presumed", False),
                        reason=d.get("reason", ""),
                        **kw,
                    )
                case "decide":
                    services.decide_identification(
                        user,
                        case,
                        identified=d.get("identified", False),
                        reasons=d.get("reason", ""),
                        person_informed_on=d.get("person_informed_on"),
                        **kw,
                    )
                case "assist":
                    services.start_assistance(user, case, **kw)
                case "return":
                    if not d.get("next_review_on"):
                        raise ValidationError({"next_review_on": "Required."})
                    services.start_return_or_reintegration(
                        user,
                        case,
                        assisted_voluntary_return=d.get("assisted_voluntary_return", False),
                        residence_permit_requested_on=d.get("residence_permit_requested_on"),
                        next_review_on=d["next_review_on"],
                        **kw,
                    )
                case "follow_up":
                    services.record_follow_up(
                        user, case, next_review_on=d.get("next_review_on"), **kw
                    )
                case "close":
                    services.close_case(user, case, reason=d.get("reason", ""), **kw)
                case "reopen":
                    services.reopen_case(user, case, reason=d.get("reason", ""), **kw)
                case "guardian":
                    if not d.get("appointed_on"):
                        raise ValidationError({"appointed_on": "Required."})
                    services.appoint_guardian(
                        user,
                        case,
                        guardian=d.get("guardian", ""),
                        appointed_on=d["appointed_on"],
                        **kw,
                    )
        except services.CaseConflict as conflict:
            raise Conflict(str(conflict)) from conflict
        fresh = selectors.read_case(user, public_id, request=request)
        return Response(CaseSerializer(fresh.case, field_groups=fresh.access.field_groups).data)

    @extend_schema(request=ReferralSendSerializer, responses={201: ReferralSerializer})
    @action(detail=True, methods=["post"])
    def refer(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        data = ReferralSendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.send_referral(
            request.user, view.case, request=request, **data.validated_data
        )
        return Response(ReferralSerializer(referral).data, status=http.HTTP_201_CREATED)


class ReferralViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = "[0-9a-f-]{36}"

    @extend_schema(
        parameters=[OpenApiParameter("page", int), OpenApiParameter("status", str)],
        responses=ReferralPageSerializer,
    )
    def list(self, request):
        """The agency's referral inbox."""
        page = selectors.inbox(
            request.user,
            status=request.query_params.get("status", ""),
            page=request.query_params.get("page", 1),
        )
        context = {"agency_id": request.user.agency_id}
        return _page(request, page, lambda r: ReferralSerializer(r, context=context).data)

    @extend_schema(responses=ReferralSerializer)
    def retrieve(self, request, public_id=None):
        referral = selectors.read_referral(request.user, public_id)
        return Response(
            ReferralSerializer(referral, context={"agency_id": request.user.agency_id}).data
        )

    @extend_schema(request=AnswerSerializer, responses=ReferralSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, public_id=None):
        referral = selectors.read_referral(request.user, public_id)
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.answer_referral(
            request.user, referral, request=request, **data.validated_data
        )
        return Response(
            ReferralSerializer(referral, context={"agency_id": request.user.agency_id}).data
        )


class TaskViewSet(viewsets.ViewSet):
    @extend_schema(responses=TaskSerializer(many=True))
    def list(self, request):
        """Open tasks: the user's, or the whole agency's for a supervisor; due first."""
        tasks = selectors.tasks_for(request.user)[:200]
        return Response(TaskSerializer(tasks, many=True).data)


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("cases", CaseViewSet, basename="case")
    router.register("referrals", ReferralViewSet, basename="referral")
    router.register("case-tasks", TaskViewSet, basename="case-task")
    document_api.register(router)


__all__ = ["register", "Http404"]
