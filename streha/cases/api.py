"""Cases API: the same selectors and services as the HTML pages."""

from django.core.exceptions import ValidationError
from django.db.models import F
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.response import Response

from streha.access import policy
from streha.cases import document_api, selectors, services
from streha.cases.models import Notification, Questionnaire
from streha.cases.serializers import (
    AnswerSerializer,
    AssignSerializer,
    BestInterestsSerializer,
    CaseOpenSerializer,
    CasePageSerializer,
    CaseSearchSerializer,
    CaseSerializer,
    ConsentRecordSerializer,
    ConsentSerializer,
    ErrorSerializer,
    EventSerializer,
    MarkedSerializer,
    NotificationSerializer,
    ProfileSerializer,
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


NOTIFICATION_LIMIT = 100


def _errors(*codes: int) -> dict:
    """Schema entries for the error answers of an operation (one JSON shape for all)."""
    meaning = {
        400: "invalid input (messages by field, never repeating the values sent)",
        403: "your role may not do this on this case",
        404: "no such case, or not visible to you",
        409: "the case changed since you read it: reload it, then send the current version",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=meaning[code]) for code in codes}


def _fresh_case(request, public_id) -> Response:
    """The case as the user now sees it (after a write), read through the selector."""
    view = selectors.read_case(request.user, public_id, request=request)
    return Response(CaseSerializer(view.case, field_groups=view.access.field_groups).data)


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

    def handle_exception(self, exc):
        # Every versioned write of a case may meet a newer version: one answer, 409.
        if isinstance(exc, services.CaseConflict):
            exc = Conflict(str(exc))
        return super().handle_exception(exc)

    def _case_page(self, request, **filters):
        page = selectors.list_cases(request.user, request=request, clamp=False, **filters)
        response = _page(request, page, lambda case: CaseSerializer(case).data)
        response.data["count_capped"] = page.count_capped
        response.data["too_broad"] = page.too_broad
        return response

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
        match d["action"]:
            case "screen":
                questionnaire = (
                    Questionnaire.objects.filter(code=d.get("questionnaire", ""), is_current=True)
                    .order_by("-version")
                    .first()
                )
                if questionnaire is None:
                    raise ValidationError({"questionnaire": _("Unknown questionnaire.")})
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
                    raise ValidationError({"next_review_on": _("This field is required.")})
                services.start_return_or_reintegration(
                    user,
                    case,
                    assisted_voluntary_return=d.get("assisted_voluntary_return", False),
                    residence_permit_requested_on=d.get("residence_permit_requested_on"),
                    next_review_on=d["next_review_on"],
                    **kw,
                )
            case "follow_up":
                services.record_follow_up(user, case, next_review_on=d.get("next_review_on"), **kw)
            case "close":
                services.close_case(user, case, reason=d.get("reason", ""), **kw)
            case "reopen":
                services.reopen_case(user, case, reason=d.get("reason", ""), **kw)
            case "guardian":
                if not d.get("appointed_on"):
                    raise ValidationError({"appointed_on": _("This field is required.")})
                services.appoint_guardian(
                    user,
                    case,
                    guardian=d.get("guardian", ""),
                    appointed_on=d["appointed_on"],
                    **kw,
                )
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

    # --- Consent, best interests, profile, assignment -----------------------------------
    # Each write reads the case through the selector (404 outside the user's scope), refuses
    # roles that may not edit it (403) before looking at the input, validates the input (400,
    # nothing written) and calls the service, which checks the policy again and audits.

    def _editable(self, request, public_id) -> selectors.CaseView:
        view = selectors.read_case(request.user, public_id, request=request)
        policy.require(view.access.can_edit)
        return view

    @extend_schema(
        methods=["GET"],
        summary="Consent records of the case",
        responses={200: ConsentSerializer(many=True), **_errors(404)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Record that the person gave, refused or withdrew consent",
        request=ConsentRecordSerializer,
        responses={201: ConsentSerializer, **_errors(400, 403, 404)},
    )
    @action(detail=True, methods=["get", "post"])
    def consents(self, request, public_id=None):
        """Consent records, newest first; POST records one (no version: consents are
        appended, never edited)."""
        if request.method == "GET":
            view = selectors.read_case(request.user, public_id, request=request)
            consents = selectors.consents(view.case).select_related("recorded_by")
            return Response(ConsentSerializer(consents, many=True).data)
        view = self._editable(request, public_id)
        data = ConsentRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consent = services.record_consent(
            request.user, view.case, request=request, **data.validated_data
        )
        return Response(ConsentSerializer(consent).data, status=http.HTTP_201_CREATED)

    @extend_schema(
        summary="Record the best-interests determination (children)",
        request=BestInterestsSerializer,
        responses={200: CaseSerializer, **_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"], url_path="best-interests")
    def best_interests(self, request, public_id=None):
        """The date the child's best interests were determined. A stale
        ``expected_version`` answers 409."""
        view = self._editable(request, public_id)
        data = BestInterestsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_best_interests(
            request.user, view.case, request=request, **data.validated_data
        )
        return _fresh_case(request, public_id)

    @extend_schema(
        summary="Correct the exploitation profile of the case",
        request=ProfileSerializer,
        responses={200: CaseSerializer, **_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["patch"])
    def profile(self, request, public_id=None):
        """Forms, places and means of exploitation, and where it happened. Only the fields
        sent change. A stale ``expected_version`` answers 409."""
        view = self._editable(request, public_id)
        data = ProfileSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        version = fields.pop("expected_version")
        services.update_profile(
            request.user, view.case, expected_version=version, request=request, **fields
        )
        return _fresh_case(request, public_id)

    @extend_schema(
        summary="Assign the case to a professional of any agency (supervisors of the owner)",
        request=AssignSerializer,
        responses={200: CaseSerializer, **_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, public_id=None):
        """The assignee, named by ``username`` or ``user_id``, is an active professional who
        does case work, in your agency or another. A stale ``expected_version`` answers 409."""
        view = self._editable(request, public_id)
        data = AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            assignee = services.find_assignee(
                username=d.get("username", ""), user_id=d.get("user_id")
            )
        except ValidationError:
            # Someone who may not assign at all is refused as such, whatever name was sent.
            policy.require(view.access.can_assign)
            raise
        services.assign_case(
            request.user,
            view.case,
            assignee,
            expected_version=d["expected_version"],
            request=request,
        )
        return _fresh_case(request, public_id)


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


class NotificationViewSet(viewsets.ViewSet):
    """The signed-in user's own notifications; nobody sees or marks anyone else's."""

    lookup_value_regex = "[0-9]+"

    @extend_schema(responses=NotificationSerializer(many=True))
    def list(self, request):
        """Unread first (newest first), then those read (last read first); at most 100."""
        notices = Notification.objects.filter(user_id=request.user.pk).order_by(
            F("read_at").desc(nulls_first=True), "-created_at", "-pk"
        )[:NOTIFICATION_LIMIT]
        return Response(NotificationSerializer(notices, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        request=None,
        responses={200: NotificationSerializer, **_errors(404)},
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """Mark one of your notifications read (again: no change)."""
        mine = Notification.objects.filter(user_id=request.user.pk, pk=pk)
        if not mine.exists():
            raise Http404
        services.mark_notifications_read(request.user, ids=[int(pk)])
        return Response(NotificationSerializer(mine.get()).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        """Mark all your unread notifications read."""
        marked = services.mark_notifications_read(request.user)
        return Response(MarkedSerializer({"marked": marked}).data)


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
    router.register("cases", CaseViewSet, basename="case")
    router.register("referrals", ReferralViewSet, basename="referral")
    router.register("case-tasks", TaskViewSet, basename="case-task")
    router.register("case-notifications", NotificationViewSet, basename="case-notification")
    document_api.register(router)


__all__ = ["register", "Http404"]
