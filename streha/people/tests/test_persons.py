"""Persons through the HTML pages and the API: scope, field groups, audit, validation."""

import pytest

from streha.access.models import AccessGrant, BreakGlassGrant
from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.people import services
from streha.people.models import Person
from streha.testing.auth import reauthenticate
from streha.testing.factories import PersonFactory


@pytest.fixture
def worker(make_user, agency):
    return make_user(Role.CASE_WORKER, agency=agency)


@pytest.fixture
def own_person(agency):
    return PersonFactory(
        owner_agency=agency,
        given_name="Mimoza",
        family_name="Berisha",
        personal_number="1122334455",
        phone="+383 44 111 222",
    )


@pytest.fixture
def foreign_person(other_agency):
    return PersonFactory(owner_agency=other_agency, given_name="Jovana", family_name="Ristić")


def events(action, person=None):
    found = AuditEvent.objects.filter(action=action)
    if person is not None:
        found = found.filter(object_id=str(person.public_id))
    return found


@pytest.mark.django_db
class TestScope:
    def test_case_worker_sees_own_agency_persons_only(
        self, client, worker, own_person, foreign_person
    ):
        client.force_login(worker)
        page = client.get("/persons/").content.decode()
        assert "Mimoza" in page and "Jovana" not in page
        assert (
            client.get(f"/persons/{own_person.public_id}/?reason=code:case_work").status_code == 200
        )
        assert client.get(f"/persons/{foreign_person.public_id}/").status_code == 404

    def test_roles_without_case_work_see_no_identities(self, client, make_user, agency, own_person):
        for role in (Role.ANALYST, Role.AUDITOR, Role.AGENCY_ADMIN, Role.SYSTEM_ADMIN):
            user = make_user(role, agency=agency)
            client.force_login(user)
            assert client.get("/persons/").status_code == 404
            assert client.get(f"/persons/{own_person.public_id}/").status_code == 404

    def test_shared_field_groups_only(self, client, make_user, other_agency, own_person):
        shelter_worker = make_user(Role.CASE_WORKER, agency=other_agency)
        AccessGrant.objects.create(
            person=own_person, agency=other_agency, field_groups=["identity"], reason="referral"
        )
        client.force_login(shelter_worker)
        page = client.get(
            f"/persons/{own_person.public_id}/?reason=code:case_work"
        ).content.decode()
        assert "Mimoza" in page
        assert "+383 44 111 222" not in page  # contact was not shared
        api = client.get(f"/api/v1/persons/{own_person.public_id}/?reason=code:case_work").json()
        assert api["given_name"] == "Mimoza" and "phone" not in api
        assert api["field_groups"] == ["identity"]
        # Shared access does not allow editing the owner's record.
        assert client.get(f"/persons/{own_person.public_id}/edit/").status_code == 404

    def test_revoked_grant_closes_access(self, client, make_user, other_agency, own_person):
        from django.utils import timezone

        user = make_user(Role.CASE_WORKER, agency=other_agency)
        AccessGrant.objects.create(
            person=own_person,
            agency=other_agency,
            field_groups=["identity"],
            reason="referral",
            revoked_at=timezone.now(),
        )
        client.force_login(user)
        assert client.get(f"/persons/{own_person.public_id}/").status_code == 404


@pytest.mark.django_db
class TestAudit:
    def test_reads_writes_and_lists_are_audited(self, client, worker, own_person):
        client.force_login(worker)
        client.get(f"/persons/{own_person.public_id}/?reason=code:case_work")
        read = events("read", own_person).get()
        assert read.actor_id == worker.pk and read.agency_id == worker.agency_id
        assert set(read.field_groups) >= {"identity", "contact"}
        assert read.request_id
        client.get("/persons/")
        listed = AuditEvent.objects.filter(action="list").get()
        assert str(own_person.public_id) in listed.details["object_ids"]
        response = client.post(
            f"/persons/{own_person.public_id}/edit/",
            {
                "given_name": "Mimoza",
                "family_name": "Berisha",
                "phone": "+383 44 999 888",
                "gender": "feminine",
                "citizenship": "XK",
            },
        )
        assert response.status_code == 302
        update = events("update", own_person).get()
        assert "contact" in update.field_groups and "phone" in update.details["fields"]
        assert Person.objects.get(pk=own_person.pk).phone == "+383 44 999 888"

    def test_audit_events_hold_no_personal_data(self, client, worker, own_person):
        client.force_login(worker)
        client.get(f"/persons/{own_person.public_id}/")
        client.post("/persons/", {"q": "1122334455"})
        for event in AuditEvent.objects.all():
            text = repr(event.__dict__)
            assert "Mimoza" not in text and "1122334455" not in text


@pytest.mark.django_db
class TestSearch:
    def test_search_by_personal_number_and_name(self, client, worker, own_person):
        PersonFactory(owner_agency=worker.agency, given_name="Arbnora", family_name="Gashi")
        client.force_login(worker)
        by_number = client.post("/persons/", {"q": "112-233-4455"}).content.decode()
        assert "Mimoza" in by_number and "Arbnora" not in by_number
        by_name = client.post("/persons/", {"q": "berisha mimoza"}).content.decode()
        assert "Mimoza" in by_name and "Arbnora" not in by_name
        assert events("search").count() == 2

    def test_search_never_finds_persons_outside_scope(self, client, worker, foreign_person):
        client.force_login(worker)
        page = client.post("/persons/", {"q": "Jovana Ristić"}, headers={"HX-Request": "true"})
        assert "Jovana" not in page.content.decode()
        assert "No person matches" in page.content.decode() or "Asnjë" in page.content.decode()

    def test_api_search_is_a_post(self, api_client, worker, own_person):
        api_client.force_authenticate(worker)
        found = api_client.post(
            "/api/v1/persons/search/", {"query": "Mimoza Berisha"}, format="json"
        ).json()
        assert [p["reference"] for p in found["results"]] == [own_person.reference]
        assert api_client.post("/api/v1/persons/search/", {}, format="json").status_code == 400


@pytest.mark.django_db
class TestRegistration:
    def test_register_through_the_page(self, client, worker):
        client.force_login(worker)
        response = client.post(
            "/persons/new/",
            {
                "given_name": "Flutura",
                "family_name": "Hoxha",
                "gender": "feminine",
                "citizenship": "XK",
                "date_of_birth": "2008-03-04",
            },
        )
        assert response.status_code == 302
        person = Person.objects.get()
        assert person.given_name == "Flutura" and person.owner_agency == worker.agency
        assert events("create", person).count() == 1

    def test_invalid_input_writes_nothing(self, client, worker):
        client.force_login(worker)
        response = client.post(
            "/persons/new/", {"given_name": "", "date_of_birth": "not-a-date", "gender": "nonsense"}
        )
        assert response.status_code == 200
        assert (
            "errorlist" in response.content.decode() or "field-error" in response.content.decode()
        )
        assert Person.objects.count() == 0 and AuditEvent.objects.count() == 0

    def test_api_validation_errors_are_clear_and_write_nothing(self, api_client, worker):
        api_client.force_authenticate(worker)
        response = api_client.post(
            "/api/v1/persons/",
            {"given_name": "A" * 500, "date_of_birth": "yesterday"},
            format="json",
        )
        assert response.status_code == 400
        body = response.json()["error"]
        assert {"given_name", "date_of_birth"} <= set(body["fields"])
        assert "A" * 50 not in response.content.decode()
        response = api_client.post("/api/v1/persons/", {"given_name": "Nul\x00byte"}, format="json")
        assert response.status_code == 400
        assert Person.objects.count() == 0 and AuditEvent.objects.count() == 0

    def test_hotline_operator_cannot_write_narrative(self, api_client, make_user, agency):
        operator = make_user(Role.HOTLINE_OPERATOR, agency=agency)
        api_client.force_authenticate(operator)
        response = api_client.post(
            "/api/v1/persons/", {"given_name": "Drita", "narrative": "story"}, format="json"
        )
        assert response.status_code == 400
        assert "narrative" in response.json()["error"]["fields"]
        assert Person.objects.count() == 0


@pytest.mark.django_db
class TestBreakGlass:
    def test_supervisor_opens_a_record_outside_scope_with_justification(
        self, client, make_user, agency, foreign_person
    ):
        supervisor = make_user(Role.SUPERVISOR, agency=agency)
        client.force_login(supervisor)
        reauthenticate(client, supervisor)  # break-glass asks for password and code again
        assert client.get(f"/persons/{foreign_person.public_id}/").status_code == 404
        short = client.post(
            "/persons/break-glass/",
            {"reference": foreign_person.reference, "justification": "urgent"},
        )
        assert short.status_code == 200 and BreakGlassGrant.objects.count() == 0
        response = client.post(
            "/persons/break-glass/",
            {
                "reference": foreign_person.reference,
                "justification": "Police report the person is in immediate danger tonight.",
                "field_groups": ["identity", "contact"],
            },
        )
        assert response.status_code == 302
        grant = BreakGlassGrant.objects.get()
        assert grant.expires_at > grant.starts_at
        page = client.get(f"/persons/{foreign_person.public_id}/")
        assert page.status_code == 200 and "break-glass-banner" in page.content.decode()
        assert events("break_glass", foreign_person).get().break_glass
        assert events("read", foreign_person).get().break_glass

    def test_expired_break_glass_closes_access(self, client, make_user, agency, foreign_person):
        from datetime import timedelta

        from django.utils import timezone

        supervisor = make_user(Role.SUPERVISOR, agency=agency)
        BreakGlassGrant.objects.create(
            user=supervisor,
            person=foreign_person,
            justification="x" * 30,
            starts_at=timezone.now() - timedelta(hours=5),
            expires_at=timezone.now() - timedelta(hours=1),
        )
        client.force_login(supervisor)
        assert client.get(f"/persons/{foreign_person.public_id}/").status_code == 404

    def test_case_worker_cannot_break_glass(self, client, worker, foreign_person):
        client.force_login(worker)
        assert client.get("/persons/break-glass/").status_code == 404
        client.post(
            "/persons/break-glass/",
            {"reference": foreign_person.reference, "justification": "y" * 40},
        )
        assert BreakGlassGrant.objects.count() == 0


@pytest.mark.django_db
class TestDataProtectionDuties:
    def test_subject_access_export_is_complete_and_audited(
        self, client, make_user, agency, own_person
    ):
        supervisor = make_user(Role.SUPERVISOR, agency=agency)
        client.force_login(supervisor)
        refused = client.post(f"/persons/{own_person.public_id}/export/?reason=code:case_work")
        assert refused.url.startswith("/accounts/reauthenticate/")  # a fresh sign-in first
        reauthenticate(client, supervisor)
        response = client.post(f"/persons/{own_person.public_id}/export/?reason=code:case_work")
        assert response.status_code == 200
        data = response.json()
        assert data["given_name"] == "Mimoza" and data["phone"] == "+383 44 111 222"
        assert events("export", own_person).count() == 1

    def test_case_worker_cannot_export(self, client, worker, own_person):
        client.force_login(worker)
        reauthenticate(client, worker)
        assert (
            client.post(
                f"/persons/{own_person.public_id}/export/?reason=code:case_work"
            ).status_code
            == 404
        )
        assert events("export").count() == 0

    def test_retention_anonymises_old_records_and_audits(self, settings, own_person):
        from datetime import timedelta

        from django.core.management import call_command
        from django.utils import timezone

        settings.STREHA_RETENTION_DAYS = {"people.person": 30, "tips.tip": 730}
        fresh = PersonFactory(owner_agency=own_person.owner_agency, given_name="Fresh")
        Person.objects.filter(pk=own_person.pk).update(
            updated_at=timezone.now() - timedelta(days=31)
        )
        call_command("retention", "apply")
        old = Person.objects.get(pk=own_person.pk)
        assert old.anonymised_at is not None
        assert old.given_name == "" and old.personal_number == "" and old.phone == ""
        assert old.gender == "feminine" and old.citizenship == "XK"  # statistics stay
        assert old.name_index == "" and old.personal_number_index == ""
        assert Person.objects.get(pk=fresh.pk).given_name == "Fresh"
        assert events("anonymise", own_person).count() == 1
        call_command("retention", "apply")  # nothing more to do
        assert events("anonymise").count() == 1
        assert services.retention_due().count() == 0


@pytest.mark.django_db
class TestDocuments:
    def test_upload_is_encrypted_downloadable_and_audited(self, client, worker, own_person):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import connection

        from streha.people.models import PersonDocument

        client.force_login(worker)
        secret = b"Medical letter: Mimoza was treated on 3 March."
        upload = SimpleUploadedFile("letter.txt", secret, content_type="text/plain")
        response = client.post(
            f"/persons/{own_person.public_id}/documents/?reason=code:case_work",
            {"title": "Medical letter", "upload": upload},
        )
        assert response.status_code == 302
        document = PersonDocument.objects.get()
        with connection.cursor() as cursor:
            cursor.execute("SELECT content, title FROM people_persondocument")
            content, title = cursor.fetchone()
        assert b"Mimoza" not in str(content).encode() and "Medical" not in title
        download = client.get(
            f"/persons/{own_person.public_id}/documents/{document.public_id}/?reason=code:case_work"
        )
        assert download.status_code == 200 and download.content == secret
        assert download["Content-Disposition"].startswith("attachment")
        assert events("create").filter(object_type="people.persondocument").count() == 1
        assert events("read").filter(object_type="people.persondocument").count() == 1

    def test_person_documents_never_reach_a_temporary_file(
        self, client, worker, own_person, settings, monkeypatch
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.core.files.uploadhandler import TemporaryFileUploadHandler

        from streha.people.models import PersonDocument

        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # Django's own handlers would spill to disk

        def no_disk(*args, **kwargs):
            raise AssertionError("an upload was written to a temporary file")

        monkeypatch.setattr(TemporaryFileUploadHandler, "new_file", no_disk)
        client.force_login(worker)
        secret = b"Passport scan of a synthetic person, longer than ten bytes."
        upload = SimpleUploadedFile("scan.txt", secret, content_type="text/plain")
        response = client.post(
            f"/persons/{own_person.public_id}/documents/?reason=code:case_work",
            {"title": "Scan", "upload": upload},
        )
        assert response.status_code == 302
        assert bytes(PersonDocument.objects.get().content) == secret

    def test_wrong_type_or_size_is_refused_and_stores_nothing(
        self, client, worker, own_person, settings
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from streha.people.models import PersonDocument

        client.force_login(worker)
        exe = SimpleUploadedFile("x.exe", b"MZ\x00\x01", content_type="application/x-msdownload")
        response = client.post(
            f"/persons/{own_person.public_id}/documents/?reason=code:case_work",
            {"title": "Program", "upload": exe},
        )
        assert response.status_code == 400 and "PDF" in response.content.decode()
        settings.STREHA_MAX_DOCUMENT_BYTES = 10
        big = SimpleUploadedFile("big.txt", b"x" * 11, content_type="text/plain")
        response = client.post(
            f"/persons/{own_person.public_id}/documents/?reason=code:case_work",
            {"title": "Big", "upload": big},
        )
        assert response.status_code == 400
        assert PersonDocument.objects.count() == 0

    def test_out_of_scope_documents_are_not_found(self, client, worker, foreign_person):
        from streha.people.models import PersonDocument

        document = PersonDocument.objects.create(
            person=foreign_person,
            title="t",
            file_name="f",
            content=b"c",
            content_type="text/plain",
            size=1,
        )
        client.force_login(worker)
        url = f"/persons/{foreign_person.public_id}/documents/{document.public_id}/"
        assert client.get(url).status_code == 404
