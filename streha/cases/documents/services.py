"""Writes on case documents: upload (attach) and withdrawal, with their upload rules.

Like every service: the access policy first, complete validation before any write, one
transaction holding the document, its case event and its audit event (all or nothing). The
title, file name and content are protected fields (encrypted with the document's own data key);
nothing about the file reaches a URL, a log line, an audit event or an error message except its
opaque id, kind, type and size.

Which field group a document needs is decided by its kind (``CaseDocument.KIND_GROUPS``): a
user adds, sees, downloads and withdraws only documents whose group the access policy grants them
on that case.
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.cases.models import Case, CaseDocument, CaseDocumentKind, CaseEvent
from streha.people.models import Person
from streha.protection.uploads import UPLOAD_FIELD

MAX_TITLE = 200
MIN_REASON = 5
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# What a client may declare besides the file's own type: browsers and HTTP libraries send these
# for files they do not recognise. The content itself is always checked against the extension.
GENERIC_DECLARED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _is_text(content: bytes) -> bool:
    return b"\x00" not in content


def _is_docx(content: bytes) -> bool:
    # Only the zip directory is read, never decompressed (no zip bomb can go off here).
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return False
    return {"[Content_Types].xml", "word/document.xml"} <= names


def _starts_with(signature: bytes) -> Callable[[bytes], bool]:
    return lambda content: content.startswith(signature)


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: the content type it is served with, the extensions it may have
    (the first names downloads), the types a client may declare for it, and a check of its
    content (a renamed program is not a PDF)."""

    content_type: str
    extensions: tuple[str, ...]
    declared: frozenset[str]
    matches: Callable[[bytes], bool]

    @property
    def extension(self) -> str:
        return self.extensions[0]


FILE_TYPES = (
    FileType(
        "application/pdf",
        ("pdf",),
        frozenset({"application/pdf", "application/x-pdf"}),
        _starts_with(b"%PDF-"),
    ),
    FileType(
        "image/jpeg",
        ("jpg", "jpeg"),
        frozenset({"image/jpeg", "image/jpg", "image/pjpeg"}),
        _starts_with(b"\xff\xd8\xff"),
    ),
    FileType("image/png", ("png",), frozenset({"image/png"}), _starts_with(b"\x89PNG\r\n\x1a\n")),
    FileType("text/plain", ("txt",), frozenset({"text/plain"}), _is_text),
    FileType(DOCX_TYPE, ("docx",), frozenset({DOCX_TYPE, "application/zip"}), _is_docx),
)


def file_type_of(file_name: str) -> FileType | None:
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return next((t for t in FILE_TYPES if extension in t.extensions), None)


def extension_for(content_type: str) -> str:
    """The extension a download of ``content_type`` is named with (never the uploaded name)."""
    return next((t.extension for t in FILE_TYPES if t.content_type == content_type), "bin")


def max_document_bytes() -> int:
    return settings.STREHA_MAX_DOCUMENT_BYTES


# --- Receiving uploads ---------------------------------------------------------------------------


# --- Rules ----------------------------------------------------------------------------------------


def require_upload_access(actor: User, case: Case) -> policy.CaseAccess:
    """The actor's access to ``case`` if they may add documents to it; ``PermissionDenied``
    otherwise. Which kinds they may add is ``upload_kinds(access)``."""
    access = policy.case_access(actor, case)
    policy.require(access.can_view and access.can_edit)
    return access


def require_withdraw_access(actor: User, document: CaseDocument) -> policy.CaseAccess:
    """The actor's access to the document's case if they may withdraw it (edit the case and
    see the document's kind); ``PermissionDenied`` otherwise."""
    access = policy.case_access(actor, document.case)
    policy.require(
        access.can_view and access.can_edit and document.field_group in access.field_groups
    )
    return access


def upload_kinds(access: policy.CaseAccess, case: Case) -> list[str]:
    """Kinds of document the holder of ``access`` may add to ``case`` (none if they may not
    edit it, or the person's record was anonymised)."""
    if not (access.can_view and access.can_edit) or case.person.anonymised_at is not None:
        return []
    return CaseDocument.kinds_in(access.field_groups)


def _read_upload(upload: UploadedFile) -> bytes:
    return b"".join(upload.chunks())


def _upload_errors(upload: UploadedFile | None) -> tuple[dict, FileType | None, bytes]:
    """Errors of the file itself, with its type and content when it is acceptable."""
    if upload is None:
        return {UPLOAD_FIELD: _("Choose a file to upload.")}, None, b""
    limit = max_document_bytes()
    if upload.size > limit:
        message = _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)}
        return {UPLOAD_FIELD: message}, None, b""
    if not upload.size:
        return {UPLOAD_FIELD: _("The file is empty.")}, None, b""
    not_allowed = _("Only PDF, JPEG, PNG, plain-text or Word (.docx) files can be uploaded.")
    file_type = file_type_of(upload.name or "")
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    if file_type is None or declared not in file_type.declared | GENERIC_DECLARED_TYPES:
        return {UPLOAD_FIELD: not_allowed}, None, b""
    content = _read_upload(upload)
    if len(content) != upload.size:
        return (
            {UPLOAD_FIELD: _("The file could not be read completely; upload it again.")},
            None,
            b"",
        )
    if not file_type.matches(content):
        message = _(
            "The file's content does not match its name: it is not a valid .%(extension)s file."
        ) % {"extension": file_type.extension}
        return {UPLOAD_FIELD: message}, None, b""
    return {}, file_type, content


@transaction.atomic
def attach_case_document(
    actor: User,
    case: Case,
    *,
    kind: str,
    title: str,
    upload: UploadedFile | None,
    request=None,
) -> CaseDocument:
    """Store an uploaded file on ``case``, encrypted, after checking the actor may edit the case
    and see documents of ``kind``. Raises ``PermissionDenied`` or ``ValidationError`` (a dict by
    field: ``kind``, ``title``, ``upload``) and then writes nothing."""
    access = require_upload_access(actor, case)
    errors: dict[str, str] = {}
    # Read under a lock that anonymisation takes too: an upload racing an anonymisation of the
    # person either lands first (and is erased with the rest) or sees the person anonymised.
    anonymised_at = (
        Person.objects.select_for_update()
        .filter(pk=case.person_id)
        .values_list("anonymised_at", flat=True)
        .first()
    )
    if anonymised_at is not None:
        errors[UPLOAD_FIELD] = _("The person's record was anonymised; no documents can be added.")
    kind = (kind or "").strip()
    if kind not in CaseDocumentKind.values:
        errors["kind"] = _("Choose what kind of document this is.")
    elif CaseDocument.KIND_GROUPS[kind] not in access.field_groups:
        errors["kind"] = _("You may not add documents of this kind to this case.")
    title = (title or "").strip()
    if not title:
        errors["title"] = _("Give the document a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("The title is too long (at most %(count)d characters).") % {
            "count": MAX_TITLE
        }
    if UPLOAD_FIELD not in errors:
        file_errors, file_type, content = _upload_errors(upload)
        errors.update(file_errors)
    if errors:
        raise ValidationError(errors)
    document = CaseDocument(
        case=case,
        kind=kind,
        title=title,
        file_name=(upload.name or "")[:255],
        content=content,
        content_type=file_type.content_type,
        size=len(content),
        uploaded_by=actor,
    )
    document.full_clean(exclude=["content", "case", "uploaded_by"])
    document.save()
    CaseEvent(
        case=case, actor=actor, kind="document_added", details={"document": str(document.public_id)}
    ).save()
    audit.record(
        actor,
        audit.Action.CREATE,
        obj=document,
        field_groups=[document.field_group],
        purpose="case document",
        request=request,
        details={"case": str(case.public_id), "kind": kind, "size": document.size},
    )
    return document


@transaction.atomic
def withdraw_case_document(
    actor: User, document: CaseDocument, *, reason: str, request=None
) -> CaseDocument:
    """Withdraw a document (wrong case, wrong person, superseded): its title, file name and
    content are erased for good; the row stays, with who withdrew it, when and why (encrypted),
    so the audit trail still resolves. Only editors who may see the document's kind."""
    require_withdraw_access(actor, document)
    # Locked: of two withdrawals at once, the second sees the first.
    locked = CaseDocument.objects.select_for_update().filter(pk=document.pk)
    if locked.values_list("withdrawn_at", flat=True).first() is not None:
        raise ValidationError({"reason": _("This document was already withdrawn.")})
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise ValidationError({"reason": _("Give the reason (at least a few words).")})
    document.title = ""
    document.file_name = ""
    document.content = b""
    document.withdrawn_at = timezone.now()
    document.withdrawn_by = actor
    document.withdrawal_reason = reason
    document.save(
        update_fields=[
            "title",
            "file_name",
            "content",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawal_reason",
        ]
    )
    CaseEvent(
        case=document.case,
        actor=actor,
        kind="document_withdrawn",
        details={"document": str(document.public_id)},
    ).save()
    audit.record(
        actor,
        audit.Action.DELETE,
        obj=document,
        field_groups=[document.field_group],
        purpose="case document withdrawn",
        request=request,
        details={"case": str(document.case.public_id), "kind": document.kind},
    )
    return document


def erase_documents_of_person(person) -> int:
    """Delete every document on the cases of ``person`` (for anonymisation, which audits it);
    returns how many were deleted. Call inside the anonymising transaction."""
    deleted, _by_model = CaseDocument.objects.filter(case__person=person).delete()
    return deleted
