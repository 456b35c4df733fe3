"""The anonymous tip line: nothing about the reporter is kept; bad input stores nothing."""

import hashlib
import logging

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test import Client

from streha.accounts.models import AgencyKind, Role
from streha.audit.models import AuditEvent
from streha.testing.factories import AgencyFactory
from streha.tips import abuse, selectors, services
from streha.tips.models import Tip, TipMessage, TipStatus
from streha.tips.testing import add, open_tip_line, read_report, unlock_client

REPORT = {
    "what_seen": "Two girls kept locked in the back of a bar, a man takes their money.",
    "where": "Behind the bus station",
    "when": "Every night this week",
    "child_involved": "on",
    "immediate_danger": "on",
}


@pytest.fixture(autouse=True)
def quick_forms(settings, request):
    settings.STREHA_TIP_MIN_SECONDS = 0
    settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS = 0
    settings.STREHA_TIP_POW_BITS = 4
    cache.clear()
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
        abuse.tip_cache().clear()
        request.node.tip_line = open_tip_line()


def fresh_form(client, lang="sq") -> dict:
    response = client.get(f"/report/?lang={lang}")
    body = response.content.decode()
    token = body.split('name="token" value="')[1].split('"')[0]
    challenge = body.split('data-challenge="')[1].split('"')[0]
    return {"token": token, "nonce": abuse.solve(challenge, 4)}


def submit(client, data=REPORT, **meta):
    return client.post("/report/?lang=sq", {**fresh_form(client), **data}, **meta)


@pytest.fixture
def operator(make_user, request):
    user = make_user(
        Role.HOTLINE_OPERATOR, agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    )
    line = request.node.tip_line
    add(line, user)
    user.tip_line = line
    return user


@pytest.mark.django_db
class TestPublicPages:
    def test_no_cookie_is_set_before_or_by_submission(self, client):
        for path in ("/learn/", "/learn/signs/", "/report/", "/report/follow-up/", "/help/"):
            response = client.get(path, follow=True)
            assert response.status_code == 200, path
            assert not response.cookies, f"{path} set {list(response.cookies)}"
        response = submit(client)
        assert response.status_code == 200 and not response.cookies
        missing = client.get("/favicon.ico")  # browsers ask for it on their own
        assert missing.status_code == 404 and not missing.cookies
        assert not client.cookies  # nothing along the way, redirects included

    def test_help_address_keeps_the_language(self, client):
        response = client.get("/help/?lang=en")
        assert response.status_code == 302
        assert response["Location"] == "/learn/get-help/?lang=en"

    def test_pages_in_three_languages_and_cacheable(self, client):
        for lang, title in (
            ("sq", "Si ta njohësh"),
            ("sr-latn", "Kako ga prepoznati"),
            ("en", "How to recognise it"),
        ):
            response = client.get(f"/learn/signs/?lang={lang}")
            assert title in response.content.decode()
            assert f'<html lang="{lang}">' in response.content.decode()
        assert "public" in client.get("/learn/")["Cache-Control"]
        assert "no-store" not in client.get("/learn/")["Cache-Control"]
        page = client.get("/learn/get-help/?lang=en").content.decode()
        assert "192" in page  # the configured emergency number replaces the placeholder

    def test_form_is_labelled_and_help_is_linked(self, client):
        """WCAG: every input has a label, and help texts the inputs point to exist."""
        import re

        html = client.get("/report/?lang=en").content.decode()
        for described in re.findall(r'aria-describedby="([^"]+)"', html):
            assert f'id="{described}"' in html, described
        for field_id in re.findall(
            r'<(?:input(?![^>]*type="hidden")|textarea|select)[^>]* id="([^"]+)"', html
        ):
            assert f'for="{field_id}"' in html, field_id
        assert html.count("<h1>") == 1 and '<html lang="en">' in html

    def test_report_page_weighs_at_most_60_kb(self, client):
        html = client.get("/report/").content
        total = len(html)
        for asset in ("tips/public.css", "tips/report.js"):
            assert f"/static/{asset}".encode() in html
            with open(finders.find(asset), "rb") as handle:
                total += len(handle.read())
        assert b"htmx" not in html and b"http://" not in html.replace(b"http://testserver", b"")
        assert total <= 60 * 1024, total


@pytest.mark.django_db
class TestAnonymousReport:
    def test_report_gives_a_receipt_and_stores_no_request_metadata(self, client):
        address, agent = "203.0.113.77", "UniqueAgent/9.9 (Fingerprint 4242)"
        response = submit(client, REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
        assert response.status_code == 200
        body = response.content.decode()
        code = body.split('id="receipt-code">')[1].split("<")[0]
        passphrase = body.split('id="receipt-passphrase">')[1].split("<")[0]
        tip = Tip.objects.get()
        assert tip.priority == 2 and tip.channel == "web"
        assert services.open_receipt(code, passphrase).tip == tip
        # Nothing of the request anywhere in the database, nor the receipt itself.
        everything = dump_database()
        for secret in (address, agent, "UniqueAgent", code, passphrase, REPORT["what_seen"]):
            assert secret not in everything, secret
        # Nor the exact time: no audit event (with its timestamp) for the public's own writes.
        assert not AuditEvent.objects.filter(object_id=str(tip.public_id)).exists()
        assert not AuditEvent.objects.filter(object_type="tips.tip").exists()

    def test_nothing_of_the_reporter_reaches_the_logs(self, client, caplog):
        address, agent = "203.0.113.78", "LoggedAgent/1.2"
        caplog.set_level(logging.DEBUG)
        meta = {"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent}
        assert submit(client, **meta).status_code == 200
        assert submit(client, {**REPORT, "what_seen": ""}, **meta).status_code == 400
        client.post("/report/follow-up/", {"code": "X", "passphrase": "y"}, **meta)
        logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
        assert address not in logged and agent not in logged
        assert REPORT["what_seen"] not in logged

    def test_bad_input_gets_clear_messages_and_stores_nothing(self, client):
        events = AuditEvent.objects.count()
        cases = [
            {**REPORT, "what_seen": ""},
            {**REPORT, "what_seen": "x" * 1_000_000},
            {**REPORT, "what_seen": "binary \x00\x01\x02 data"},
            {**REPORT, "municipality": "not-a-number"},
        ]
        for data in cases:
            response = submit(client, data)
            assert response.status_code == 400
            assert 'id="error-summary"' in response.content.decode()
        assert Tip.objects.count() == 0 and AuditEvent.objects.count() == events

    def test_script_tags_are_kept_as_text_and_escaped(self, client, operator):
        submit(client, {**REPORT, "what_seen": "<script>alert(1)</script> seen"})
        tip = Tip.objects.get()
        assert read_report(operator, tip).what_seen.startswith("<script>")
        staff = Client()
        unlock_client(staff, operator, operator.tip_line.key(operator))
        page = staff.get(f"/tips/{tip.public_id}/").content.decode()
        assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page

    def test_abuse_checks(self, client, settings):
        assert submit(client, {**REPORT, abuse.HONEYPOT: "http://spam"}).status_code == 400
        body = client.get("/report/").content.decode()
        token = body.split('name="token" value="')[1].split('"')[0]
        challenge = body.split('data-challenge="')[1].split('"')[0]
        # A nonce that really fails the check (a fixed one would pass by luck 1 time in 16).
        wrong = next(
            str(n)
            for n in range(1000)
            if abuse.leading_zero_bits(hashlib.sha256(f"{challenge}:{n}".encode()).digest()) < 4
        )
        bad_pow = client.post("/report/", {"token": token, "nonce": wrong, **REPORT})
        assert bad_pow.status_code == 400
        form = fresh_form(client)
        assert client.post("/report/", {**form, **REPORT}).status_code == 200
        replay = client.post("/report/", {**form, **REPORT})
        assert replay.status_code == 400
        forged = client.post("/report/", {"token": "forged", "nonce": "1", **REPORT})
        assert forged.status_code == 400
        settings.STREHA_TIP_MIN_SECONDS = 60
        assert submit(client).status_code == 400
        assert Tip.objects.count() == 1

    def test_rate_limit_keeps_only_a_keyed_hash(self, client, settings, one_rate_day):
        settings.STREHA_TIP_RATE_PER_HOUR = 2
        statuses = [submit(client, REMOTE_ADDR="198.51.100.9").status_code for _ in range(8)]
        # Above the limit the work grows; far above it (four times) the address is refused.
        assert statuses == [200] * 8
        assert abuse.required_bits("198.51.100.9") > settings.STREHA_TIP_POW_BITS
        assert submit(client, REMOTE_ADDR="198.51.100.9").status_code == 400
        cache_keys = " ".join(cache._cache.keys()) if hasattr(cache, "_cache") else ""
        assert "198.51.100.9" not in cache_keys

    def test_proof_of_work_helper(self):
        nonce = abuse.solve("abc", 8)
        import hashlib

        assert hashlib.sha256(f"abc:{nonce}".encode()).digest()[0] == 0


@pytest.mark.django_db
class TestFollowUp:
    def test_reporter_reads_reply_and_adds_information(self, client, operator):
        body = submit(client).content.decode()
        code = body.split('id="receipt-code">')[1].split("<")[0]
        passphrase = body.split('id="receipt-passphrase">')[1].split("<")[0]
        tip = Tip.objects.get()
        services.reply(operator, tip, "Thank you, the police are informed.")
        opened = client.post("/report/follow-up/", {"code": code.lower(), "passphrase": passphrase})
        assert "the police are informed" in opened.content.decode()
        added = client.post(
            "/report/follow-up/",
            {"code": code, "passphrase": passphrase, "body": "They moved to another house."},
        )
        assert added.status_code == 200
        assert TipMessage.objects.filter(author="reporter").count() == 1
        assert "They moved to another house." in added.content.decode()

    def test_wrong_receipt_is_refused_the_same_way(self, client):
        submit(client)
        for code, passphrase in (("AAAA-BBBB-CCCC", "x"), ("", ""), ("<script>", "\x00")):
            response = client.post("/report/follow-up/", {"code": code, "passphrase": passphrase})
            assert response.status_code == 400
        assert TipMessage.objects.count() == 0

    def test_guessing_receipts_is_rate_limited(self, client, settings):
        settings.STREHA_TIP_RATE_PER_HOUR = 3
        wrong = {"code": "AAAA-BBBB-CCCC", "passphrase": "guess"}
        statuses = [client.post("/report/follow-up/", wrong).status_code for _ in range(4)]
        assert statuses == [400, 400, 400, 429]


@pytest.mark.django_db
class TestHotline:
    def test_queue_is_urgent_first(self, client, operator):
        mild = Tip(channel="web", what_seen="mild", received_on="2026-01-01")
        mild.save()
        services.log_phone_call(operator, what_seen="child begging", child_involved=True)
        danger = services.log_phone_call(operator, what_seen="danger", immediate_danger=True)
        unlock_client(client, operator, operator.tip_line.key(operator))
        page = client.get("/tips/").content.decode()
        assert page.index(danger.reference) < page.index(mild.reference)
        assert AuditEvent.objects.filter(purpose="hotline call").count() == 2

    def test_triage_assign_reply_convert(self, client, operator, make_user):
        police = AgencyFactory(kind=AgencyKind.POLICE)
        shelter = AgencyFactory(kind=AgencyKind.SHELTER)
        tip = services.log_phone_call(operator, what_seen="danger", immediate_danger=True)
        unlock_client(client, operator, operator.tip_line.key(operator))
        wrong = client.post(
            f"/tips/{tip.public_id}/",
            {
                "action": "triage",
                "category": "forced_labour",
                "status": "assigned",
                "assigned_agency": shelter.pk,
            },
        )
        assert wrong.status_code == 400 and Tip.objects.get().assigned_agency is None
        ok = client.post(
            f"/tips/{tip.public_id}/",
            {
                "action": "triage",
                "category": "forced_labour",
                "status": "assigned",
                "assigned_agency": police.pk,
            },
        )
        assert ok.status_code == 302 and Tip.objects.get().assigned_agency == police
        investigator = make_user(Role.INVESTIGATOR, agency=police)
        other = make_user(Role.INVESTIGATOR, agency=shelter)
        viewer = Client()
        viewer.force_login(investigator)
        assert viewer.get(f"/tips/{tip.public_id}/").status_code == 200
        viewer.force_login(other)
        assert viewer.get(f"/tips/{tip.public_id}/").status_code == 404
        converted = client.post(
            f"/tips/{tip.public_id}/",
            {"action": "convert", "kind": "police_report", "reference": "KP-2026-0042"},
        )
        assert converted.status_code == 302
        tip.refresh_from_db()
        assert tip.status == TipStatus.CONVERTED and tip.converted_to == "KP-2026-0042"
        assert tip.converted_kind == "police_report"

    def test_campaign_pages_editable_by_coordinator_staff(self, client, make_user, operator):
        analyst = make_user(Role.ANALYST, agency=operator.agency)
        client.force_login(analyst)
        page = client.get("/tips/campaign/signs/")
        assert page.status_code == 200
        data = {
            "published": "on",
            "order": 2,
            "title_sq": "Shenjat",
            "body_sq": "Tekst i ri",
            "title_sr": "Znaci",
            "body_sr": "Novi tekst",
            "title_en": "Signs",
            "body_en": "New text",
        }
        assert client.post("/tips/campaign/signs/", data).status_code == 302
        assert "New text" in Client().get("/learn/signs/?lang=en").content.decode()
        unlock_client(client, operator, operator.tip_line.key(operator))
        assert client.get("/tips/campaign/signs/").status_code == 404

    def test_campaign_figures_suppress_small_cells(self, client, make_user, operator):
        for category, count in (("sexual_exploitation", 7), ("forced_labour", 6)):
            for _ in range(count):
                services.log_phone_call(operator, what_seen="call", category=category)
        services.log_phone_call(operator, what_seen="rare", category="forced_begging")
        for index, tip in enumerate(Tip.objects.filter(category="sexual_exploitation")[:6]):
            if index < 5:
                services.convert(operator, tip, kind="victim_case")
            else:
                services.convert(operator, tip, reference=f"R-{index}", kind="police_report")
        (week,) = selectors.campaign_figures()
        assert week.total == 14 and week.converted == 6
        assert week.cases is None  # 5 shown would give away the single police report
        assert week.cell("channel", "phone") == 14
        assert week.cell("category", "sexual_exploitation") == 7
        assert week.cell("category", "forced_begging") is None
        # Complementary: with 14 shown, 6 would give away the single hidden 1.
        assert week.cell("category", "forced_labour") is None
        analyst = make_user(Role.ANALYST, agency=operator.agency)
        client.force_login(analyst)
        page = client.get("/tips/campaign/").content.decode()
        assert 'data-cell="category:sexual_exploitation">7<' in page
        assert 'data-cell="category:forced_begging">&lt;5<' in page
        assert 'data-cell="category:forced_labour">&lt;5<' in page
        supervisor = make_user(Role.SUPERVISOR, agency=operator.agency)
        client.force_login(supervisor)  # edits pages, sees no figures
        assert 'id="campaign-figures"' not in client.get("/tips/campaign/").content.decode()


def test_suppression_rules():
    assert selectors.suppress({"a": 10, "b": 3}, 13) == {"a": None, "b": None}
    assert selectors.suppress({"a": 10, "b": 3, "c": 2}, 15) == {"a": 10, "b": None, "c": None}
    assert selectors.suppress({"a": 10, "b": 8}, 18) == {"a": 10, "b": 8}
    assert selectors.suppress({"a": 4}, 4) == {"a": None}


def dump_database() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_time_is_not_recorded_beyond_the_day():
    """An exact time of submission could identify a reporter: tips keep the day only."""
    timed = [
        f.name
        for f in Tip._meta.concrete_fields
        if f.get_internal_type() in {"DateTimeField", "TimeField"}
    ]
    assert timed == []


@pytest.mark.django_db
class TestApi:
    """The API shares the services: same rules, same audit, same scoping."""

    def test_log_triage_convert_through_the_api(self, api_client, operator, make_user):
        police = AgencyFactory(kind=AgencyKind.POLICE)
        api_client.force_authenticate(operator)
        created = api_client.post(
            "/api/v1/tips/",
            {"what_seen": "Caller: a boy begs for a man", "child_involved": True},
            format="json",
        )
        assert created.status_code == 201, created.content
        tip_id = created.json()["public_id"]
        assert created.json()["channel"] == "phone" and created.json()["priority"] == 1
        listed = api_client.get("/api/v1/tips/").json()
        assert listed[0]["public_id"] == tip_id and "what_seen" not in listed[0]
        triaged = api_client.post(
            f"/api/v1/tips/{tip_id}/triage/",
            {"category": "forced_begging", "status": "assigned", "assigned_agency": police.code},
            format="json",
        )
        assert triaged.status_code == 200 and triaged.json()["assigned_agency"] == police.code
        converted = api_client.post(
            f"/api/v1/tips/{tip_id}/convert/",
            {"reference": "KP-2026-7", "converted_kind": "police_report"},
            format="json",
        )
        assert converted.json()["status"] == "converted"
        assert converted.json()["converted_to"] == "KP-2026-7"
        assert converted.json()["converted_kind"] == "police_report"
        assert converted.json()["case"] is None
        purposes = set(AuditEvent.objects.values_list("purpose", flat=True))
        assert {"hotline call", "tip triage", "triage", "converted"} <= purposes
        # A phone tip has no receipt to reply to.
        reply = api_client.post(f"/api/v1/tips/{tip_id}/reply/", {"body": "x"}, format="json")
        assert reply.status_code == 400

    def test_bad_input_and_refusals_store_nothing(self, api_client, operator, make_user):
        events = AuditEvent.objects.count()
        api_client.force_authenticate(operator)
        for data in ({"what_seen": ""}, {"what_seen": "x" * 1_000_000}, {"what_seen": "a\x00b"}):
            assert api_client.post("/api/v1/tips/", data, format="json").status_code == 400
        api_client.force_authenticate(make_user(Role.INVESTIGATOR))
        refused = api_client.post("/api/v1/tips/", {"what_seen": "x"}, format="json")
        assert refused.status_code == 403
        assert Tip.objects.count() == 0 and AuditEvent.objects.count() == events

    def test_danger_must_go_to_the_police(self, api_client, operator):
        shelter = AgencyFactory(kind=AgencyKind.SHELTER)
        tip = services.log_phone_call(operator, what_seen="danger", immediate_danger=True)
        api_client.force_authenticate(operator)
        response = api_client.post(
            f"/api/v1/tips/{tip.public_id}/triage/",
            {"category": "other", "status": "assigned", "assigned_agency": shelter.code},
            format="json",
        )
        assert response.status_code == 400
        tip.refresh_from_db()
        assert tip.assigned_agency is None and tip.status == TipStatus.NEW


@pytest.mark.django_db
def test_demo_tips_are_deterministic_and_added_once():
    from streha.tips import demo

    assert demo.generate_tips(seed=7, count=20) == 20
    assert demo.generate_tips(seed=7, count=20) == 0
    assert Tip.objects.count() == 20
    assert AuditEvent.objects.filter(purpose="demo data").count() == 20
    first = sorted(t.what_seen for t in Tip.objects.all())
    Tip.objects.all().delete()
    demo.generate_tips(seed=7, count=20)
    assert sorted(t.what_seen for t in Tip.objects.all()) == first


@pytest.mark.django_db
def test_my_work_panels(operator, make_user):
    police = AgencyFactory(kind=AgencyKind.POLICE)
    investigator = make_user(Role.INVESTIGATOR, agency=police)
    assert selectors.my_work_panels(investigator) == []
    tip = services.log_phone_call(operator, what_seen="danger", immediate_danger=True)
    (hotline,) = selectors.my_work_panels(operator)
    assert [count for _label, count in hotline.figures] == [1, 1]
    services.triage(
        operator, tip, category="forced_labour", status="assigned", assigned_agency=police
    )
    (panel,) = selectors.my_work_panels(investigator)
    assert [count for _label, count in panel.figures] == [1, 1]
    assert "/tips/" in [url for _label, url in selectors.navigation_entries(investigator)]


@pytest.mark.django_db
def test_retention_erases_content_but_keeps_figures(client, operator, settings):
    import datetime

    settings.STREHA_RETENTION_DAYS = {**settings.STREHA_RETENTION_DAYS, "tips.tip": 30}
    body = submit(client).content.decode()
    code = body.split('id="receipt-code">')[1].split("<")[0]
    passphrase = body.split('id="receipt-passphrase">')[1].split("<")[0]
    old = Tip.objects.get()
    services.reply(operator, old, "We are on it.")
    services.triage(operator, old, category="forced_labour", status="closed", assigned_agency=None)
    still_open = services.log_phone_call(operator, what_seen="open one")
    Tip.objects.filter(pk__in=[old.pk, still_open.pk]).update(received_on=datetime.date(2020, 1, 6))
    assert services.apply_retention() == 1
    old.refresh_from_db()
    assert old.sealed_report == "" and old.erased_on is not None
    assert old.category == "forced_labour" and read_report(operator, old) is None
    assert TipMessage.objects.count() == 0
    assert services.open_receipt(code, passphrase) is None
    assert read_report(operator, Tip.objects.get(pk=still_open.pk)).what_seen == "open one"
    assert AuditEvent.objects.filter(action="anonymise").count() == 1
    assert services.apply_retention() == 0
