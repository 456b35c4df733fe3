"""Case documents: encrypted at rest, seen only with the field group of their kind, audited,
uploads checked for size and type with nothing half-written, the same rules for pages and API."""

import base64
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from streha.accounts import services as account_services
from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.cases.documents import selectors as document_selectors
from streha.cases.documents import services as document_services
from streha.cases.models import CaseDocument, CaseDocumentKind, CaseEvent, Referral
from streha.cases.tests.factories import CaseFactory
from streha.protection.uploads import BoundedMemoryUploadHandler
from streha.testing.admin_fixtures import _english  # noqa: F401 - messages read in English
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db

SECRET = b"Statement of Mimoza Krasniqi: recruited in Prizren on 3 March."
FILE_NAME = "Mimoza-Krasniqi-statement.txt"


@pytest.fixture
def shelter(db):
    return AgencyFactory(kind=AgencyKind.SHELTER)


@pytest.fixture
def worker(make_user, shelter):
    return make_user(Role.CASE_WORKER, agency=shelter)


@pytest.fixture
def investigator(make_user, shelter):
    """Edits the shelter's cases but has no "health" field group."""
    return make_user(Role.INVESTIGATOR, agency=shelter)


@pytest.fixture
def prosecutor(make_user, shelter):
    """Sees the shelter's cases but may not change them."""
    return make_user(Role.PROSECUTOR, agency=shelter)


@pytest.fixture
def outsider(make_user):
    return make_user(Role.CASE_WORKER, agency=AgencyFactory(kind=AgencyKind.POLICE))


@pytest.fixture
def case(shelter):
    return CaseFactory(owner_agency=shelter, person=PersonFactory(owner_agency=shelter))


def upload(content=SECRET, name=FILE_NAME, content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def store(case, actor, kind=CaseDocumentKind.STATEMENT, **kwargs):
    return document_services.attach_case_document(
        actor, case, kind=kind, title=kwargs.pop("title", "Statement"), upload=upload(**kwargs)
    )


def events(action, object_type="cases.casedocument"):
    return AuditEvent.objects.filter(action=action, object_type=object_type)


def raw_row(document):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title, file_name, content, content_type, kind FROM cases_casedocument "
            "WHERE id = %s",
            [document.pk],
        )
        return [
            str(bytes(value) if isinstance(value, memoryview) else value)
            for value in cursor.fetchone()
        ]


def minimal_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


# --- Pages -----------------------------------------------------------------------------------


def test_upload_list_and_download_through_the_pages(client, worker, case):
    client.force_login(worker)
    response = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "statement", "title": "First statement", "upload": upload(), "return_to": "case"},
    )
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.public_id}/"
    document = CaseDocument.objects.get()
    assert (document.kind, document.content_type, document.size) == (
        "statement",
        "text/plain",
        len(SECRET),
    )
    assert CaseEvent.objects.filter(case=case, kind="document_added").count() == 1

    page = client.get(f"/cases/{case.public_id}/documents/")
    body = page.content.decode()
    assert page.status_code == 200
    assert "First statement" in body and FILE_NAME in body
    assert f"/cases/{case.public_id}/documents/{document.public_id}/" in body
    assert 'id="document-upload-form"' in body and 'enctype="multipart/form-data"' in body

    download = client.get(f"/cases/{case.public_id}/documents/{document.public_id}/")
    assert download.status_code == 200 and download.content == SECRET
    assert download["Content-Type"] == "text/plain"
    assert download["Content-Disposition"] == f'attachment; filename="{document.public_id}.txt"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    assert "Mimoza" not in download["Content-Disposition"]
    assert download["Content-Security-Policy"] == "sandbox"

    assert events("create").filter(object_id=str(document.public_id)).count() == 1
    read = events("read").get(object_id=str(document.public_id))
    assert read.field_groups == ["narrative"] and read.details["case"] == str(case.public_id)
    listed = events("list").first()
    assert listed.details["object_ids"] == [str(document.public_id)]


def test_upload_from_the_documents_page_returns_there(client, worker, case):
    client.force_login(worker)
    response = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "statement", "title": "T", "upload": upload(), "return_to": "documents"},
    )
    assert response["Location"] == f"/cases/{case.public_id}/documents/"


def test_the_upload_page_checks_csrf(worker, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    url = f"/cases/{case.public_id}/documents/upload/"
    refused = client.post(url, {"kind": "statement", "title": "T", "upload": upload()})
    assert refused.status_code == 403
    client.get(f"/cases/{case.public_id}/documents/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url,
        {"kind": "statement", "title": "T", "upload": upload(), "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302 and CaseDocument.objects.count() == 1


def test_documents_card_renders_for_the_case_page(rf, worker, prosecutor, case):
    store(case, worker)
    view_of = {}
    for user in (worker, prosecutor):
        from streha.cases import selectors

        view = selectors.read_case(user, case.public_id)
        request = rf.get("/")
        request.user = user
        view_of[user.pk] = render_to_string(
            "cases/_documents.html",
            {
                "case": case,
                "view": view,
                "case_documents": document_selectors.documents_for(user, case),
            },
            request=request,
        )
    assert 'id="document-upload-form"' in view_of[worker.pk]
    assert 'name="return_to" value="case"' in view_of[worker.pk]
    assert 'id="manage-documents"' in view_of[worker.pk]
    # The prosecutor sees the statement ("narrative") but may not add documents.
    assert "Statement" in view_of[prosecutor.pk]
    assert 'id="document-upload-form"' not in view_of[prosecutor.pk]
    # Without case_documents in the context the card is left out, not shown empty.
    assert "case-documents" not in render_to_string("cases/_documents.html", {"case": case})


# --- Encryption at rest ------------------------------------------------------------------------


def test_title_file_name_and_content_are_encrypted_at_rest(worker, case):
    document = store(case, worker, title="Statement of Mimoza")
    title, file_name, content, content_type, kind = raw_row(document)
    for column in (title, file_name, content):
        assert "Mimoza" not in column and "statement" not in column.lower()
        assert base64.b64encode(SECRET).decode()[:40] not in column
    assert (content_type, kind) == ("text/plain", "statement")
    fresh = CaseDocument.objects.get(pk=document.pk)
    assert bytes(fresh.content) == SECRET and fresh.file_name == FILE_NAME


# --- Field groups and scope ---------------------------------------------------------------------


def test_documents_are_seen_only_with_the_group_of_their_kind(client, worker, investigator, case):
    medical = store(case, worker, kind=CaseDocumentKind.MEDICAL, title="Hospital letter")
    statement = store(case, worker, kind=CaseDocumentKind.STATEMENT, title="Police statement")
    client.force_login(investigator)  # no "health" group
    body = client.get(f"/cases/{case.public_id}/documents/").content.decode()
    assert "Police statement" in body and "Hospital letter" not in body
    assert "not listed" in body
    assert client.get(f"/cases/{case.public_id}/documents/{medical.public_id}/").status_code == 404
    download = client.get(f"/cases/{case.public_id}/documents/{statement.public_id}/")
    assert download.status_code == 200
    listed = client.get(f"/api/v1/cases/{case.public_id}/documents/").json()
    assert [item["id"] for item in listed] == [str(statement.public_id)]
    api = f"/api/v1/cases/{case.public_id}/documents/{medical.public_id}/"
    assert client.get(api).status_code == 404
    # The investigator may not add a medical record either; the kinds offered say so.
    offered = document_selectors.documents_for(investigator, case).upload_kinds
    assert "medical" not in dict(offered) and "statement" in dict(offered)
    refused = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "medical", "title": "X-ray", "upload": upload()},
    )
    assert refused.status_code == 400
    assert "You may not add documents of this kind" in refused.content.decode()
    assert CaseDocument.objects.count() == 2


def test_a_referral_shows_only_the_shared_groups(client, make_user, worker, case):
    partner = AgencyFactory(kind=AgencyKind.SOCIAL_WORK)
    partner_worker = make_user(Role.CASE_WORKER, agency=partner)
    Referral(
        case=case,
        from_agency=case.owner_agency,
        to_agency=partner,
        field_groups=["identity"],
        status="accepted",
        answer_due_on=timezone.localdate(),
    ).save()
    passport = store(case, worker, kind=CaseDocumentKind.IDENTITY_PAPERS, title="Passport")
    statement = store(case, worker, kind=CaseDocumentKind.STATEMENT, title="Statement")
    client.force_login(partner_worker)
    listed = client.get(f"/api/v1/cases/{case.public_id}/documents/").json()
    assert [item["id"] for item in listed] == [str(passport.public_id)]
    url = f"/cases/{case.public_id}/documents/{statement.public_id}/"
    assert client.get(url).status_code == 404
    # A referred agency sees the case but does not change it: no upload form, no upload.
    assert (
        'id="document-upload-form"'
        not in client.get(f"/cases/{case.public_id}/documents/").content.decode()
    )
    assert (
        client.post(
            f"/api/v1/cases/{case.public_id}/documents/",
            {"kind": "identity_papers", "title": "Copy", "upload": upload()},
        ).status_code
        == 403
    )


def test_out_of_scope_documents_are_not_found(client, worker, outsider, case):
    document = store(case, worker)
    client.force_login(outsider)
    base = f"/cases/{case.public_id}/documents/"
    api = f"/api/v1/cases/{case.public_id}/documents/"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}{document.public_id}/").status_code == 404
    assert client.post(f"{base}upload/", {"kind": "statement", "title": "T"}).status_code == 404
    assert (
        client.post(f"{base}{document.public_id}/withdraw/", {"reason": "Wrong case."}).status_code
        == 404
    )
    assert client.get(api).status_code == 404
    assert client.get(f"{api}{document.public_id}/").status_code == 404
    assert (
        client.post(api, {"kind": "statement", "title": "T", "upload": upload()}).status_code == 404
    )
    assert not events("read").exists() and CaseDocument.objects.count() == 1
    # A document id of another case is not found under this one either.
    other = CaseFactory(owner_agency=case.owner_agency, person=case.person)
    client.force_login(worker)
    assert (
        client.get(f"/cases/{other.public_id}/documents/{document.public_id}/").status_code == 404
    )


def test_viewers_who_may_not_edit_cannot_upload(client, prosecutor, case):
    client.force_login(prosecutor)
    page = f"/cases/{case.public_id}/documents/upload/"
    assert (
        client.post(page, {"kind": "statement", "title": "T", "upload": upload()}).status_code
        == 404
    )
    api = client.post(
        f"/api/v1/cases/{case.public_id}/documents/",
        {"kind": "statement", "title": "T", "upload": upload()},
    )
    assert api.status_code == 403 and CaseDocument.objects.count() == 0


# --- Upload rules: size, type, nothing half-written ----------------------------------------------


def _nothing_written():
    return (
        CaseDocument.objects.count() == 0
        and not CaseEvent.objects.filter(kind="document_added").exists()
        and not events("create").exists()
    )


def test_too_large_upload_is_refused_with_a_message(client, worker, case, settings):
    settings.STREHA_MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
    client.force_login(worker)
    big = upload(b"x" * (2 * 1024 * 1024 + 1), name="big.txt")
    response = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "statement", "title": "Big", "upload": big},
    )
    assert response.status_code == 400
    assert "The file is larger than 2 MB." in response.content.decode()
    assert _nothing_written()
    api = client.post(
        f"/api/v1/cases/{case.public_id}/documents/",
        {"kind": "statement", "title": "Big", "upload": upload(b"x" * (2 * 1024 * 1024 + 1))},
    )
    assert api.status_code == 400
    assert api.json()["error"]["fields"]["upload"] == ["The file is larger than 2 MB."]
    assert _nothing_written()


@pytest.mark.parametrize(
    "name, content, content_type",
    [
        ("Mimoza-tool.exe", b"MZ\x90\x00", "application/x-msdownload"),
        ("Mimoza-letter.pdf", b"MZ\x90\x00 not a pdf", "application/pdf"),
        ("Mimoza-page.txt", b"<script>alert(1)</script>", "text/html"),
        ("Mimoza-photo.png", b"\xff\xd8\xff\xe0 a jpeg", "image/png"),
        ("Mimoza-word.docx", b"PK\x03\x04 broken", "application/octet-stream"),
        ("Mimoza-binary.txt", b"a\x00b", "text/plain"),
        ("Mimoza-noextension", b"%PDF-1.4", "application/pdf"),
    ],
)
def test_wrong_type_is_refused_and_nothing_written(
    client, worker, case, name, content, content_type
):
    client.force_login(worker)
    file = upload(content, name=name, content_type=content_type)
    response = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "statement", "title": "Letter", "upload": file},
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert (
        "Only PDF, JPEG, PNG, plain-text or Word (.docx) files" in body or "does not match" in body
    )
    assert _nothing_written()
    api = client.post(
        f"/api/v1/cases/{case.public_id}/documents/",
        {
            "kind": "statement",
            "title": "Secret title",
            "upload": upload(content, name, content_type),
        },
    )
    assert api.status_code == 400 and "upload" in api.json()["error"]["fields"]
    assert "Mimoza" not in api.content.decode() and "Secret title" not in api.content.decode()
    assert _nothing_written()


@pytest.mark.parametrize(
    "name, content, content_type, served_as",
    [
        ("scan.pdf", b"%PDF-1.7\n...", "application/pdf", "application/pdf"),
        ("photo.JPG", b"\xff\xd8\xff\xe0JFIF", "image/jpeg", "image/jpeg"),
        ("photo.png", b"\x89PNG\r\n\x1a\n....", "application/octet-stream", "image/png"),
        ("letter.docx", minimal_docx(), "application/zip", document_services.DOCX_TYPE),
        ("notes.txt", "Shënime në shqip".encode(), "text/plain; charset=utf-8", "text/plain"),
    ],
)
def test_accepted_types(worker, case, name, content, content_type, served_as):
    document = store(case, worker, content=content, name=name, content_type=content_type)
    assert document.content_type == served_as and bytes(document.content) == content


def test_missing_fields_say_what_is_missing(client, worker, case):
    client.force_login(worker)
    page = client.post(f"/cases/{case.public_id}/documents/upload/", {"kind": "", "title": ""})
    assert page.status_code == 400
    api = client.post(f"/api/v1/cases/{case.public_id}/documents/", {})
    assert api.status_code == 400
    assert {"kind", "title", "upload"} <= set(api.json()["error"]["fields"])
    empty = client.post(
        f"/api/v1/cases/{case.public_id}/documents/",
        {"kind": "statement", "title": "T", "upload": upload(b"")},
    )
    assert empty.json()["error"]["fields"]["upload"] == ["The file is empty."]
    json_body = client.post(
        f"/api/v1/cases/{case.public_id}/documents/",
        {"kind": "statement", "title": "T"},
        content_type="application/json",
    )
    assert json_body.status_code == 400 and "upload" in json_body.json()["error"]["fields"]
    assert _nothing_written()


def test_no_document_on_an_anonymised_persons_case(worker, case):
    case.person.anonymised_at = timezone.now()
    case.person.save()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        store(case, worker)
    assert "upload" in refused.value.message_dict
    assert document_selectors.documents_for(worker, case).upload_kinds == []


def test_uploads_stay_in_memory_never_in_a_temporary_file(
    client, worker, case, settings, monkeypatch
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django would spill anything larger to disk

    def no_disk(*args, **kwargs):
        raise AssertionError("a document was written to a temporary file")

    monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", no_disk)
    client.force_login(worker)
    response = client.post(
        f"/cases/{case.public_id}/documents/upload/",
        {"kind": "statement", "title": "T", "upload": upload()},
    )
    assert response.status_code == 302
    assert bytes(CaseDocument.objects.get().content) == SECRET


def test_the_upload_handler_keeps_no_more_than_the_limit():
    handler = BoundedMemoryUploadHandler(limit=4)
    handler.new_file("upload", "a.txt", "text/plain", None)
    handler.receive_data_chunk(b"abc", 0)
    handler.receive_data_chunk(b"def", 3)
    received = handler.file_complete(6)
    assert received.size == 6 and received.read() == b""
    from django.core.files.uploadhandler import SkipFile

    with pytest.raises(SkipFile):
        handler.new_file("upload", "b.txt", "text/plain", None)  # one file per request
    with pytest.raises(SkipFile):
        BoundedMemoryUploadHandler(limit=4).new_file("other", "c.txt", "", None)


# --- API -----------------------------------------------------------------------------------------


def test_upload_list_and_download_through_the_api_with_a_token(client, make_user, worker, case):
    admin = make_user(Role.AGENCY_ADMIN, agency=case.owner_agency)
    # Tokens act only as service accounts (issue 10): the agency's case-sync client.
    machine = make_user(Role.CASE_WORKER, agency=case.owner_agency, is_service_account=True)
    _token, secret = account_services.issue_api_token(
        admin, user=machine, name="client", scopes=["read", "write"]
    )
    auth = {"HTTP_AUTHORIZATION": f"Token {secret}"}
    url = f"/api/v1/cases/{case.public_id}/documents/"
    created = client.post(
        url, {"kind": "statement", "title": "Statement", "upload": upload()}, **auth
    )
    assert created.status_code == 201
    data = created.json()
    assert data["kind"] == "statement" and data["field_group"] == "narrative"
    assert data["file_name"] == FILE_NAME and data["size"] == len(SECRET)
    assert data["uploaded_by"] == machine.username
    listed = client.get(url, **auth).json()
    assert [item["id"] for item in listed] == [data["id"]]
    download = client.get(f"{url}{data['id']}/", HTTP_ACCEPT="application/pdf", **auth)
    assert download.status_code == 200 and download.content == SECRET
    assert download["Content-Disposition"].startswith("attachment; filename=")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in download["Cache-Control"]
    missing = client.get(f"{url}00000000-0000-0000-0000-000000000000/", **auth)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert events("create").count() == 1 and events("read").count() == 1
    assert events("list").count() == 1


def test_schema_describes_the_document_operations(client, worker):
    client.force_login(worker)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    base = "/api/v1/cases/{case_public_id}/documents/"
    upload_op = schema["paths"][base]["post"]
    assert list(upload_op["requestBody"]["content"]) == ["multipart/form-data"]
    download_op = schema["paths"][base + "{document_id}/"]["get"]
    assert "application/octet-stream" in download_op["responses"]["200"]["content"]
    assert "format" not in {p["name"] for p in download_op["parameters"]}
    assert "withdraw" in "".join(schema["paths"])
    assert set(schema["components"]["schemas"]["CaseDocumentKindEnum"]["enum"]) == set(
        CaseDocumentKind.values
    )
    assert "KindEnum" in schema["components"]["schemas"]  # the agencies' enum keeps its name


# --- Withdrawal ----------------------------------------------------------------------------------


def test_withdrawal_erases_the_file_and_keeps_the_trail(client, worker, case):
    document = store(case, worker)
    client.force_login(worker)
    url = f"/cases/{case.public_id}/documents/{document.public_id}/withdraw/"
    short = client.post(url, {"reason": "no"})
    assert short.status_code == 400 and "Give the reason" in short.content.decode()
    response = client.post(url, {"reason": "Uploaded to the wrong case."})
    assert response.status_code == 302
    document.refresh_from_db()
    assert document.withdrawn_at and document.withdrawn_by == worker
    assert bytes(document.content) == b"" and document.title == "" and document.file_name == ""
    assert document.withdrawal_reason == "Uploaded to the wrong case."
    assert "Mimoza" not in raw_row(document)[2]
    assert client.get(f"/cases/{case.public_id}/documents/{document.public_id}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.public_id}/documents/").json() == []
    assert events("delete").filter(object_id=str(document.public_id)).count() == 1
    assert CaseEvent.objects.filter(case=case, kind="document_withdrawn").count() == 1
    again = client.post(
        f"/api/v1/cases/{case.public_id}/documents/{document.public_id}/withdraw/",
        {"reason": "Again, to be sure."},
    )
    assert again.status_code == 404


def test_withdrawal_through_the_api(client, worker, prosecutor, case):
    document = store(case, worker)
    url = f"/api/v1/cases/{case.public_id}/documents/{document.public_id}/withdraw/"
    client.force_login(prosecutor)
    assert client.post(url, {"reason": "Not mine to withdraw."}).status_code == 403
    client.force_login(worker)
    assert client.post(url, {"reason": "Superseded by a new scan."}).status_code == 204
    assert CaseDocument.objects.get().withdrawn_at is not None


def test_erasing_the_documents_of_a_person(worker, case):
    store(case, worker)
    assert document_services.erase_documents_of_person(case.person) == 1
    assert CaseDocument.objects.count() == 0


def test_anonymising_the_person_erases_the_documents_of_their_cases(client, worker, case):
    from streha.people.services import anonymise_person

    document = store(case, worker)
    anonymise_person(case.person, reason="Retention period over.")
    assert not CaseDocument.objects.filter(pk=document.pk).exists()
    event = AuditEvent.objects.filter(action="anonymise").latest("seq")
    assert event.details["case_documents_deleted"] == 1
    client.force_login(worker)
    assert client.get(f"/cases/{case.public_id}/").status_code == 200
