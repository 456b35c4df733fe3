"""Persons API: the same selectors and services as the HTML pages."""

from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from streha.access import policy
from streha.accounts.reauth import check_recent_authentication
from streha.api.serializers import UUID_PATTERN, PageQuerySerializer, error_responses, page_of
from streha.audit import read_context
from streha.linkage.hooks import registration_matches_for_api
from streha.people import selectors, services
from streha.people.models import Person
from streha.people.serializers import (
    BreakGlassSerializer,
    PersonPageSerializer,
    PersonSearchSerializer,
    PersonSerializer,
    PersonWriteSerializer,
)
from streha.protection.token_search import SearchTooBroad


class PersonViewSet(viewsets.ViewSet):
    lookup_field = "public_id"
    lookup_value_regex = UUID_PATTERN

    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: PersonPageSerializer, **error_responses(400)},
    )
    def list(self, request):
        return self._page(request, query="", page=page_of(request))

    @extend_schema(
        request=PersonSearchSerializer,
        responses={200: PersonPageSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["post"])
    @read_context.changes_nothing
    def search(self, request):
        """Search by reference, whole personal or passport number, or by names (any one name,
        several in any order, Albanian or Serbian spelling, with or without accents), with the
        year or date of birth if wanted. A POST, so that names and numbers never appear in URLs
        or access logs. 400 ``search_too_broad`` when the search names too many persons."""
        data = PersonSearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._page(
            request, query=data.validated_data["query"], page=data.validated_data["page"]
        )

    def _page(self, request, *, query: str, page):
        page = selectors.list_persons(request.user, query=query, page=page, request=request)
        if page.too_broad:
            raise SearchTooBroad
        identity = frozenset({"identity"})
        return Response(
            {
                "count": page.paginator.count,
                "page": page.number,
                "pages": page.paginator.num_pages,
                "more_results": page.more_results,
                # Names only on the rows whose person the user may see with identity.
                "results": [
                    PersonSerializer(
                        row.person, field_groups=identity if row.shows_identity else frozenset()
                    ).data
                    for row in page
                ],
            }
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "reason",
                str,
                description=(
                    "Why the record is consulted: case:<case public id>, task:<task id> or "
                    "code:<reason code>; required unless the record is opened under "
                    "break-glass (else 400 reason_required)."
                ),
            )
        ],
        responses={200: PersonSerializer, **error_responses(404)},
    )
    def retrieve(self, request, public_id=None):
        view = selectors.read_person(
            request.user, public_id, request=request, reason=request.query_params.get("reason", "")
        )
        return Response(PersonSerializer(view.person, field_groups=view.access.field_groups).data)

    @extend_schema(
        request=PersonWriteSerializer,
        responses={201: PersonSerializer, **error_responses(400, 403)},
    )
    def create(self, request):
        data = PersonWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.register_person(request.user, request=request, **data.validated_data)
        groups = policy.person_access(request.user, person).field_groups
        body = PersonSerializer(person, field_groups=groups).data
        body["possible_matches"] = registration_matches_for_api(request.user, person)
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PersonWriteSerializer,
        responses={200: PersonSerializer, **error_responses(400, 403, 404)},
    )
    def partial_update(self, request, public_id=None):
        view = selectors.read_person(
            request.user,
            public_id,
            request=request,
            require=lambda access: policy.require(access.can_edit),
        )
        data = PersonWriteSerializer(view.person, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        person = services.update_person(
            request.user, view.person, request=request, **data.validated_data
        )
        return Response(PersonSerializer(person, field_groups=view.access.field_groups).data)

    @extend_schema(request=None, responses={200: dict, **error_responses(403, 404)})
    @action(detail=True, methods=["get"])
    def export(self, request, public_id=None):
        check_recent_authentication(request)
        view = selectors.read_person(
            request.user,
            public_id,
            request=request,
            require=lambda access: policy.require(access.can_export),
        )
        return Response(services.export_person(request.user, view.person, request=request))

    @extend_schema(
        request=BreakGlassSerializer,
        responses={201: PersonSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=False, methods=["post"], url_path="break-glass")
    def break_glass(self, request):
        data = BreakGlassSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy.require(policy.can_break_glass(request.user))
        check_recent_authentication(request)
        person = Person.objects.filter(reference=data.validated_data["reference"].upper()).first()
        if person is None:
            raise Http404
        services.open_break_glass(
            request.user,
            person,
            justification=data.validated_data["justification"],
            field_groups=data.validated_data["field_groups"],
            request=request,
        )
        view = selectors.read_person(request.user, person.public_id, request=request)
        return Response(
            PersonSerializer(view.person, field_groups=view.access.field_groups).data,
            status=status.HTTP_201_CREATED,
        )
