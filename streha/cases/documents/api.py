"""API for case documents: list, upload (multipart), download, withdraw. The same selectors
and services as the pages; the file's name and title travel only in bodies, never in URLs."""

import json

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from streha.api.serializers import UUID_PATTERN
from streha.cases import selectors as case_selectors
from streha.cases.documents import selectors as document_selectors
from streha.cases.documents import services as document_services
from streha.cases.documents.views import download_response
from streha.cases.models import CaseDocument, CaseDocumentKind


class CaseDocumentKindField(serializers.ChoiceField):
    """The kind of a case document (it decides the field group needed to see the document)."""

    def __init__(self, **kwargs):
        super().__init__(choices=CaseDocumentKind.choices, **kwargs)


class CaseDocumentKindFieldSchema(OpenApiSerializerFieldExtension):
    """The kinds as their own named enum component. Left to drf-spectacular, a second enum of
    fields named "kind" would rename the agencies' ``KindEnum`` (a breaking change for
    generated clients)."""

    target_class = CaseDocumentKindField

    def map_serializer_field(self, auto_schema, direction):
        component = ResolvedComponent(
            name="CaseDocumentKindEnum",
            type=ResolvedComponent.SCHEMA,
            object="CaseDocumentKindEnum",
            schema={
                "type": "string",
                "enum": list(CaseDocumentKind.values),
                "description": "\n".join(
                    f"* `{value}` - {label}" for value, label in CaseDocumentKind.choices
                ),
            },
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class CaseDocumentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    kind = CaseDocumentKindField(read_only=True)
    field_group = serializers.CharField(
        read_only=True, help_text=_("The field group a user needs to see this document.")
    )
    uploaded_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, help_text=_("Username of the uploader.")
    )

    class Meta:
        model = CaseDocument
        fields = [
            "id",
            "kind",
            "field_group",
            "title",
            "file_name",
            "content_type",
            "size",
            "uploaded_by",
            "uploaded_at",
        ]
        read_only_fields = fields


class CaseDocumentUploadSerializer(serializers.Serializer):
    kind = CaseDocumentKindField(help_text=_("Decides which field group may see the document."))
    title = serializers.CharField(max_length=document_services.MAX_TITLE)
    upload = serializers.FileField(
        allow_empty_file=True,  # the service refuses empty files with its own message
        use_url=False,
        help_text=_("PDF, JPEG, PNG, plain text or Word (.docx), within the size limit."),
    )


class CaseDocumentWithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class DocumentRenderer(BaseRenderer):
    """Lets a client ask for the file with any ``Accept`` (the response is the file itself);
    errors still come as the usual JSON body."""

    media_type = "*/*"
    format = "file"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


CASE_ID = OpenApiParameter("case_public_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
DOCUMENT_ID = OpenApiParameter("document_id", OpenApiTypes.UUID, OpenApiParameter.PATH)
ERRORS = {
    400: OpenApiResponse(description=_("Invalid data; the fields say why.")),
    403: OpenApiResponse(description=_("You may see the case but not change it.")),
    404: OpenApiResponse(description=_("No such case or document in your scope.")),
}


class CaseDocumentViewSet(viewsets.ViewSet):
    """Documents of a victim case. Each is visible with the field group of its kind."""

    lookup_field = "document_id"
    lookup_value_regex = UUID_PATTERN
    # JSON is parsed only so that a JSON body gets a 400 saying which field is missing; the
    # schema documents multipart/form-data, the one way to send a file.
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_renderers(self):
        if getattr(self, "action", None) == "retrieve":
            return [JSONRenderer(), DocumentRenderer()]
        return super().get_renderers()

    @extend_schema(
        parameters=[CASE_ID],
        responses={200: CaseDocumentSerializer(many=True), 404: ERRORS[404]},
    )
    def list(self, request, case_public_id=None):
        """The case's documents you may see, newest first (at most 200)."""
        view = case_selectors.read_case(
            request.user, case_public_id, request=request, purpose="case documents"
        )
        documents = document_selectors.documents_for(
            request.user, view.case, access=view.access, request=request
        )
        return Response(CaseDocumentSerializer(documents.documents, many=True).data)

    @extend_schema(
        parameters=[CASE_ID],
        request={"multipart/form-data": CaseDocumentUploadSerializer},
        responses={201: CaseDocumentSerializer, **ERRORS},
    )
    def create(self, request, case_public_id=None):
        """Upload a document (multipart/form-data, the file in ``upload``). It is stored
        encrypted; type and size are checked, and a refused upload stores nothing."""
        view = case_selectors.read_case(
            request.user, case_public_id, request=request, purpose="case document upload"
        )
        document_services.require_upload_access(request.user, view.case)
        data = CaseDocumentUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = document_services.attach_case_document(
            request.user, view.case, request=request, **data.validated_data
        )
        return Response(CaseDocumentSerializer(document).data, status=http.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CASE_ID, DOCUMENT_ID, OpenApiParameter("format", exclude=True)],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=_(
                    "The file, as an attachment named by its id; its Content-Type is the "
                    "document's content_type."
                ),
            ),
            404: ERRORS[404],
        },
    )
    def retrieve(self, request, case_public_id=None, document_id=None):
        """Download a document (audited)."""
        document = document_selectors.read_case_document(
            request.user, case_public_id, document_id, request=request
        )
        return download_response(document)

    @extend_schema(
        parameters=[CASE_ID, DOCUMENT_ID],
        request=CaseDocumentWithdrawSerializer,
        responses={204: None, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, case_public_id=None, document_id=None):
        """Withdraw a document with a reason: its title, file name and content are erased."""
        _view, document = document_selectors.find_case_document(
            request.user,
            case_public_id,
            document_id,
            request=request,
            purpose="case document withdrawal",
        )
        document_services.require_withdraw_access(request.user, document)
        data = CaseDocumentWithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document_services.withdraw_case_document(
            request.user, document, reason=data.validated_data["reason"], request=request
        )
        return Response(status=http.HTTP_204_NO_CONTENT)


def register(router) -> None:
    """Add the case-document viewsets to ``router``."""
    router.register(
        r"cases/(?P<case_public_id>[0-9a-f-]+)/documents",
        CaseDocumentViewSet,
        basename="case-document",
    )
