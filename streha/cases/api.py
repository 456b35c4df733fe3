"""Cases API: the same selectors and services as the HTML pages."""

import inspect

from django.db.models import F
from django.http import Http404
from django.utils import translation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from streha.access import policy
from streha.api.serializers import UUID_PATTERN, error_responses, page_of
from streha.audit import read_context
from streha.cases import actions, selectors, services
from streha.cases.documents import api as document_api
from streha.cases.serializers import (
    AnswerSerializer,
    CaseListQuerySerializer,
    CaseOpenSerializer,
    CasePageSerializer,
    CaseSearchSerializer,
    CaseSerializer,
    ConsentSerializer,
    EventSerializer,
    MarkedSerializer,
    NotificationSerializer,
    ReferralListQuerySerializer,
    ReferralPageSerializer,
    ReferralSerializer,
    TaskSerializer,
    TransitionSerializer,
)
from streha.people.selectors import read_person

NOTIFICATION_LIMIT = 100


def _errors(*codes: int) -> dict:
    """Schema entries for the error answers of an operation on a case."""
    return error_responses(
        *codes,
        m403="your role may not do this on this case",
        m409="the case changed since you read it: reload it, then send the current version",
    )


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
    lookup_value_regex = UUID_PATTERN

    def _case_page(self, request, **filters):
        page = selectors.list_cases(request.user, request=request, clamp=False, **filters)
        response = _page(request, page, lambda case: CaseSerializer(case).data)
        response.data["count_capped"] = page.count_capped
        response.data["too_broad"] = page.too_broad
        response.data["more_results"] = page.more_results
        return response

    @extend_schema(
        parameters=[CaseListQuerySerializer],
        responses={200: CasePageSerializer, **_errors(400)},
    )
    def list(self, request):
        params = request.query_params
        query = CaseListQuerySerializer(data=params)
        query.is_valid(raise_exception=True)  # a sort key outside the list is a 400
        return self._case_page(
            request,
            status=params.get("status", ""),
            source=params.get("source", ""),
            exploitation_type=params.get("exploitation_type", ""),
            sort=query.validated_data.get("ordering", ""),
            page=query.validated_data["page"],
        )

    @extend_schema(
        request=CaseSearchSerializer, responses={200: CasePageSerializer, **_errors(400)}
    )
    @action(detail=False, methods=["post"])
    @read_context.changes_nothing
    def search(self, request):
        """Exact search by blind index (name, personal or passport number) or case reference.
        A POST, so names and numbers never appear in URLs or access logs."""
        data = CaseSearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._case_page(
            request, query=data.validated_data["query"], page=data.validated_data["page"]
        )

    @extend_schema(responses={200: CaseSerializer, **_errors(404)})
    def retrieve(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        return Response(CaseSerializer(view.case, field_groups=view.access.field_groups).data)

    @extend_schema(
        request=CaseOpenSerializer, responses={201: CaseSerializer, **_errors(400, 403, 404)}
    )
    def create(self, request):
        policy.require(policy.can_open_cases(request.user))
        data = CaseOpenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        person = read_person(
            request.user, fields.pop("person"), request=request, reason="code:case_work"
        ).person
        case = services.open_case(request.user, person, request=request, **fields)
        groups = policy.case_access(request.user, case).field_groups
        return Response(
            CaseSerializer(case, field_groups=groups).data, status=http.HTTP_201_CREATED
        )

    @extend_schema(responses={200: EventSerializer(many=True), **_errors(404)})
    @action(detail=True, methods=["get"])
    def timeline(self, request, public_id=None):
        view = selectors.read_case(request.user, public_id, request=request)
        return Response(EventSerializer(selectors.timeline(view.case), many=True).data)

    @extend_schema(
        request=TransitionSerializer,
        responses={200: CaseSerializer, **_errors(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def transition(self, request, public_id=None):
        """Move the case one NRM step: ``action`` names a step of the registry of case
        actions taken here, the other fields are those the step needs. A stale
        ``expected_version`` answers 409."""
        view = selectors.read_case(request.user, public_id, request=request)
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        step = actions.TRANSITION_ACTIONS[data.validated_data["action"]]
        return self.take_step(request, view, step)

    def take_step(self, request, view: selectors.CaseView, step: actions.CaseAction) -> Response:
        """Every step of the registry, in the same order: the case through the selector (404
        outside the user's scope), the right the step needs (403, before looking at the
        input), the input (400, nothing written), then the service, which checks the policy
        and the stage again and audits. The answer is the step's object, or the case as the
        user now sees it."""
        policy.require(step.permitted(view.access))
        context = {"case": view.case, "request": request}
        data = step.serializer(data=request.data, context=context)
        data.is_valid(raise_exception=True)
        result = step.take(request.user, view.case, data.validated_data, request=request)
        operation = step.api
        if operation.returns is None:
            return _fresh_case(request, view.case.public_id)
        body = operation.returns(result, context={"user": request.user}).data
        status = http.HTTP_201_CREATED if operation.created else http.HTTP_200_OK
        return Response(body, status=status)

    @extend_schema(
        methods=["GET"],
        summary="Consent records of the case",
        responses={200: ConsentSerializer(many=True), **_errors(404)},
    )
    @action(detail=True, methods=["get", "post"])
    def consents(self, request, public_id=None):
        """Consent records, newest first; POST records one (the registry's ``consent`` step;
        no version: consents are appended, never edited)."""
        view = selectors.read_case(request.user, public_id, request=request)
        if request.method == "POST":
            return self.take_step(request, view, actions.ACTIONS["consent"])
        consents = selectors.consents(view.case).select_related("recorded_by")
        return Response(ConsentSerializer(consents, many=True).data)


def _step_schema(step: actions.CaseAction, *, methods=None):
    """The OpenAPI description of a step's operation, from its registry entry."""
    operation = step.api
    codes = (400, 403, 404, 409) if step.versioned else (400, 403, 404)
    with translation.override("en"):
        summary = operation.summary or str(step.label)
    return extend_schema(
        methods=methods,
        summary=summary,
        description=inspect.cleandoc(step.service.__doc__ or "").split("\n\n")[0],
        request=step.serializer,
        responses={
            201 if operation.created else 200: operation.returns or CaseSerializer,
            **_errors(*codes),
        },
    )


def _add_step_operations(viewset) -> None:
    """Give ``viewset`` one operation per registered step with an address of its own (the
    others are taken through ``transition``; ``consents`` is written out, as it also reads)."""
    for step in actions.ACTIONS.values():
        operation = step.api
        if operation.path in (actions.TRANSITION, "consents"):
            continue

        def take(self, request, public_id=None, step=step):
            view = selectors.read_case(request.user, public_id, request=request)
            return self.take_step(request, view, step)

        take.__name__ = f"step_{step.name}"
        routed = action(
            detail=True,
            methods=[operation.method],
            url_path=operation.path,
            url_name=operation.path,
        )(take)
        setattr(viewset, take.__name__, _step_schema(step)(routed))


_add_step_operations(CaseViewSet)
# The consent step shares its address with the consent records (see ``consents``).
_step_schema(actions.ACTIONS["consent"], methods=["POST"])(CaseViewSet.consents)


class ReferralViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN

    @extend_schema(
        parameters=[ReferralListQuerySerializer],
        responses={200: ReferralPageSerializer, **_errors(400)},
    )
    def list(self, request):
        """The agency's referral inbox."""
        page = selectors.inbox(
            request.user,
            status=request.query_params.get("status", ""),
            page=page_of(request),
        )
        context = {"user": request.user}
        return _page(request, page, lambda r: ReferralSerializer(r, context=context).data)

    @extend_schema(responses={200: ReferralSerializer, **_errors(404)})
    def retrieve(self, request, public_id=None):
        referral = selectors.read_referral(request.user, public_id, request=request)
        return Response(ReferralSerializer(referral, context={"user": request.user}).data)

    @extend_schema(
        request=AnswerSerializer, responses={200: ReferralSerializer, **_errors(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def answer(self, request, public_id=None):
        referral = selectors.read_referral(request.user, public_id, request=request)
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        referral = services.answer_referral(
            request.user, referral, request=request, **data.validated_data
        )
        return Response(ReferralSerializer(referral, context={"user": request.user}).data)


class TaskViewSet(viewsets.ViewSet):
    lookup_value_regex = "[0-9]+"

    @extend_schema(responses=TaskSerializer(many=True))
    def list(self, request):
        """Open tasks: the user's, or the whole agency's for a supervisor; due first."""
        tasks = selectors.tasks_for(request.user)[:200]
        return Response(TaskSerializer(tasks, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)],
        request=None,
        responses={200: TaskSerializer, **_errors(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def done(self, request, pk=None):
        """Mark a task of your agency done (again: no change)."""
        task = selectors.agency_task(request.user, pk)
        if task is None:
            raise Http404
        task = services.complete_task(request.user, task, request=request)
        return Response(TaskSerializer(task).data)


class NotificationViewSet(viewsets.ViewSet):
    """The signed-in user's own notifications; nobody sees or marks anyone else's."""

    lookup_value_regex = "[0-9]+"

    @extend_schema(responses=NotificationSerializer(many=True))
    def list(self, request):
        """Unread first (newest first), then those read (last read first); at most 100."""
        notices = policy.notifications_visible_to(request.user).order_by(
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
        mine = policy.notifications_visible_to(request.user).filter(pk=pk)
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
