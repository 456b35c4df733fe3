"""Reads of case documents, scoped by the access policy and audited: a list showing document
titles and names is a LIST event, a download is a READ event.

A user sees a document only if the access policy lets them see its case and grants them, on
that case, the field group of the document's kind. Anything else is "not found" (404).
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.http import Http404

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.cases import selectors as case_selectors
from streha.cases.documents import services as document_services
from streha.cases.models import Case, CaseDocument, CaseDocumentKind

MAX_LISTED = 200  # documents one list shows (newest first)


@dataclass(frozen=True)
class CaseDocuments:
    """What the documents card shows one user on one case. Iterates over the documents."""

    case: Case
    documents: list[CaseDocument] = field(default_factory=list)
    # (value, label) of the kinds the user may add; empty: no upload form.
    upload_kinds: list[tuple[str, str]] = field(default_factory=list)
    can_withdraw: bool = False
    shown: bool = False  # the user may see at least one kind of document on this case
    partial: bool = False  # some kinds of document are outside the user's access

    def __iter__(self):
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    @property
    def max_megabytes(self) -> int:
        return max(1, document_services.max_document_bytes() // (1024 * 1024))


def visible_documents(access: policy.CaseAccess, case: Case) -> QuerySet[CaseDocument]:
    """Documents of ``case`` the holder of ``access`` may see (withdrawn ones never)."""
    if not access.can_view:
        return CaseDocument.objects.none()
    return CaseDocument.objects.filter(
        case=case, withdrawn_at__isnull=True, kind__in=CaseDocument.kinds_in(access.field_groups)
    )


def listed_documents(access: policy.CaseAccess, case: Case) -> QuerySet[CaseDocument]:
    """The query of ``documents_for``'s list: newest first, without their content."""
    return (
        visible_documents(access, case)
        .defer("content")
        .select_related("uploaded_by")
        .order_by("-uploaded_at", "-pk")[:MAX_LISTED]
    )


def documents_for(
    user: User,
    case: Case,
    *,
    access: policy.CaseAccess | None = None,
    request=None,
    purpose: str = "case documents",
    documents: list[CaseDocument] | None = None,
) -> CaseDocuments:
    """The documents of ``case`` that ``user`` may see, newest first, without their content;
    audited as a LIST when any is shown. Pass ``access`` when the caller already has it, and
    ``documents`` when it read ``listed_documents(access, case)`` itself (the case page reads
    it together with its other records)."""
    access = access if access is not None else policy.case_access(user, case)
    kinds = CaseDocument.kinds_in(access.field_groups) if access.can_view else []
    if not kinds:
        return CaseDocuments(case=case)
    if documents is None:
        documents = list(listed_documents(access, case))
    if documents:
        audit.record_many(
            user,
            audit.Action.LIST,
            documents,
            field_groups=sorted({document.field_group for document in documents}),
            purpose=purpose,
            request=request,
            details={"case": str(case.public_id)},
        )
    addable = set(document_services.upload_kinds(access, case))
    return CaseDocuments(
        case=case,
        documents=documents,
        upload_kinds=[
            (value, label) for value, label in CaseDocumentKind.choices if value in addable
        ],
        can_withdraw=access.can_edit,
        shown=True,
        partial=len(kinds) < len(CaseDocumentKind.values),
    )


def find_case_document(
    user: User,
    case_public_id,
    document_public_id,
    *,
    with_content: bool = False,
    request=None,
    purpose: str = "",
) -> tuple[case_selectors.CaseView, CaseDocument]:
    """The case (read, audited) and one of its documents ``user`` may see (its content only
    ``with_content``); 404 if either is out of scope, withdrawn, or of a kind outside the
    user's field groups on that case."""
    view = case_selectors.read_case(user, case_public_id, request=request, purpose=purpose)
    documents = visible_documents(view.access, view.case)
    if not with_content:
        documents = documents.defer("content")
    document = documents.filter(public_id=document_public_id).first()
    if document is None:
        raise Http404
    document.case = view.case
    return view, document


def read_case_document(
    user: User, case_public_id, document_public_id, *, request=None
) -> CaseDocument:
    """A document with its content, for download; audited as a READ of the document."""
    view, document = find_case_document(
        user,
        case_public_id,
        document_public_id,
        with_content=True,
        request=request,
        purpose="case document",
    )
    audit.record(
        user,
        audit.Action.READ,
        obj=document,
        field_groups=[document.field_group],
        purpose="case document download",
        request=request,
        details={"case": str(view.case.public_id)},
    )
    return document
