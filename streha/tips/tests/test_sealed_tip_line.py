"""The tip line sealed to the hotline unit's key: what the server cannot read, who reads what,
no trace of the reporter, and abuse control that does not block the honest."""

import io
import json
import logging

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import Client

from streha.accounts.models import AgencyKind, Role
from streha.protection import keys
from streha.protection.models import protected_models
from streha.testing.factories import AgencyFactory
from streha.tips import abuse, sealing, selectors, services, unlock
from streha.tips.models import KeySlot, Tip, TipLineMember, TipMessage
from streha.tips.testing import PASSWORD, add, open_tip_line, read_report, unlock_client

pytestmark = pytest.mark.django_db

WHAT = "Synthetic: three women kept in a flat above the Zebra bakery."
CONTACT = "Synthetic contact +383 44 000 111"
FOLLOW_UP = "Synthetic: a grey van comes every Tuesday."
REPLY = "Synthetic reply: the police have been told."


@pytest.fixture(autouse=True)
def quick_forms(settings):
    settings.STREHA_TIP_MIN_SECONDS = 0
    settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS = 0
    settings.STREHA_TIP_POW_BITS = 4
    cache.clear()
    abuse.tip_cache().clear()


@pytest.fixture
def unit(make_user):
    nc = AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
    operator = make_user(Role.HOTLINE_OPERATOR, agency=nc)
    colleague = make_user(Role.HOTLINE_OPERATOR, agency=nc)
    line = open_tip_line(operator, colleague)
    operator.tip_line = colleague.tip_line = line
    return line, operator, colleague


def fresh_form(client, **meta) -> dict:
    body = client.get("/report/?lang=en", **meta).content.decode()
    token = body.split('name="token" value="')[1].split('"')[0]
    challenge = body.split('data-challenge="')[1].split('"')[0]
    bits = int(body.split('data-bits="')[1].split('"')[0])
    return {"token": token, "nonce": abuse.solve(challenge, bits)}


def post_report(client, data=None, **meta):
    data = data or {"what_seen": WHAT, "contact": CONTACT}
    return client.post("/report/?lang=en", {**fresh_form(client, **meta), **data}, **meta)


def receipt_of(response) -> tuple[str, str]:
    body = response.content.decode()
    code = body.split('id="receipt-code">')[1].split("<")[0]
    return code, body.split('id="receipt-passphrase">')[1].split("<")[0]


def everything_the_server_can_read() -> str:
    """The database as the server reads it with its own key file: every row, and every
    protected field opened with the master keys (what a thief with both would see)."""
    out = io.StringIO()
    call_command("dumpdata", stdout=out)
    parts = [out.getvalue()]
    for model in protected_models():
        for obj in model.objects.all():
            for name in model.protected_field_names():
                parts.append(str(getattr(obj, name)))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM streha_tip_line_cache")
        parts.append(repr(cursor.fetchall()))
    return "\n".join(parts)


class TestServerCannotRead:
    def test_database_key_file_and_code_read_no_tip_or_message(self, unit):
        line, operator, _colleague = unit
        client = Client()
        code, passphrase = receipt_of(post_report(client))
        tip = Tip.objects.get()
        access = services.open_receipt(code, passphrase)
        services.add_reporter_message(access.tip, FOLLOW_UP)
        services.reply(operator, tip, REPLY)

        # 1. Nothing readable in the rows, even with every protected field opened.
        readable = everything_the_server_can_read()
        for secret in (WHAT, CONTACT, FOLLOW_UP, REPLY, code, passphrase):
            assert secret not in readable

        # 2. The application's own functions, with everything the server holds: the master
        # keys, the Django secret, no operator session. Nothing opens.
        server_secrets = [keys.keyring().index_key.hex(), "streha", ""]
        server_secrets += [key.hex() for key in keys.keyring().keys.values()]
        for member in TipLineMember.objects.all():
            for secret in server_secrets:
                assert unlock.open_member_key(member.user, secret) is None
        assert selectors.open_report(operator, None, tip) is None
        assert all(entry.body is None for entry in selectors.hotline_thread(operator, None, tip))
        for slot in KeySlot.objects.all():
            for secret in server_secrets:
                with pytest.raises(sealing.Unreadable):
                    sealing.unlock(secret, slot.sealed_private_key)
        # A session copied from the database is useless without the cookie of the browser.
        staff = Client()
        unlock_client(staff, operator, line.key(operator))
        staff.cookies.pop(unlock.COOKIE_NAME)
        page = staff.get(f"/tips/{tip.public_id}/").content.decode()
        assert WHAT not in page and 'id="tip-locked"' in page

        # 3. Those who hold the secrets read: the member (signed in), and the reporter.
        assert read_report(operator, tip).what_seen == WHAT
        bodies = [entry.body for entry in selectors.reporter_thread(access)]
        assert bodies == [FOLLOW_UP, REPLY]
        hotline = [
            entry.body for entry in selectors.hotline_thread(operator, line.key(operator), tip)
        ]
        assert hotline == [FOLLOW_UP, REPLY]

    def test_a_report_moved_to_another_row_does_not_open(self, unit):
        _line, operator, _colleague = unit
        first = services.log_phone_call(operator, what_seen="first account")
        second = services.log_phone_call(operator, what_seen="second account")
        Tip.objects.filter(pk=second.pk).update(sealed_report=first.sealed_report)
        second.refresh_from_db()
        assert read_report(operator, second) is None

    def test_ids_do_not_order_tips_and_only_the_day_is_kept(self, unit):
        _line, operator, _colleague = unit
        tips = [services.log_phone_call(operator, what_seen=f"call {n}") for n in range(12)]
        ids = [tip.pk for tip in tips]
        assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
        fields = {
            field.name: field.get_internal_type()
            for field in Tip._meta.get_fields()
            if hasattr(field, "get_internal_type")
        }
        assert "DateTimeField" not in {fields[name] for name in fields if name != "case"}
        assert "DateTimeField" not in {f.get_internal_type() for f in TipMessage._meta.fields}


class TestMembers:
    def test_a_removed_operator_cannot_read_new_tips(self, unit):
        line, operator, colleague = unit
        before = services.log_phone_call(operator, what_seen="before the removal")
        services.remove_member(line.supervisor, TipLineMember.objects.get(user=colleague))
        after = services.log_phone_call(operator, what_seen="after the removal")
        # The removed operator, even with their key (copied before), opens nothing new.
        kept = line.key(colleague)
        assert selectors.open_report(colleague, kept, after) is None
        assert services.unit_private_keys(kept) == {}
        keys_before = {before.sealed_to_id}
        assert after.sealed_to_id not in keys_before
        # Their membership is gone, so the policy refuses them too.
        client = Client()
        unlock_client(client, colleague, kept)
        assert client.get(f"/tips/{after.public_id}/").status_code == 404
        # The remaining member reads both.
        assert read_report(operator, before).what_seen == "before the removal"
        assert read_report(operator, after).what_seen == "after the removal"

    def test_a_new_operator_is_sealed_in_by_the_supervisor(self, unit, make_user):
        line, operator, _colleague = unit
        old = services.log_phone_call(operator, what_seen="an old call")
        newcomer = make_user(Role.HOTLINE_OPERATOR, agency=operator.agency)
        assert selectors.open_report(newcomer, None, old) is None
        newcomer.tip_line = line
        add(line, newcomer)
        assert read_report(newcomer, old).what_seen == "an old call"

    def test_sign_in_unlocks_without_an_extra_step(self, unit, settings):
        settings.STREHA_TIP_LOCK_OPSLIMIT = sealing.ARGON.OPSLIMIT_MIN
        settings.STREHA_TIP_LOCK_MEMLIMIT = sealing.ARGON.MEMLIMIT_MIN
        _line, operator, _colleague = unit
        operator.set_password(PASSWORD)
        operator.save()
        tip = services.log_phone_call(operator, what_seen="read after sign-in")
        client = Client()
        response = client.post(
            "/accounts/login/", {"login": operator.username, "password": PASSWORD}
        )
        assert response.status_code == 302
        cookie = client.cookies[unlock.COOKIE_NAME]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        page = client.get(f"/tips/{tip.public_id}/").content.decode()
        assert "read after sign-in" in page
        # A wrong password neither signs in nor unlocks.
        other = Client()
        other.post("/accounts/login/", {"login": operator.username, "password": "wrong"})
        assert unlock.COOKIE_NAME not in other.cookies

    def test_first_sign_in_makes_a_key_that_waits_for_the_supervisor(self, make_user, settings):
        settings.STREHA_TIP_LOCK_OPSLIMIT = sealing.ARGON.OPSLIMIT_MIN
        settings.STREHA_TIP_LOCK_MEMLIMIT = sealing.ARGON.MEMLIMIT_MIN
        operator = make_user(Role.HOTLINE_OPERATOR)
        operator.set_password(PASSWORD)
        operator.save()
        Client().post("/accounts/login/", {"login": operator.username, "password": PASSWORD})
        member = TipLineMember.objects.get(user=operator)
        assert member.added_on is None and not member.slots.exists()


class TestWhoSeesWhat:
    def test_hotline_operator_outside_the_unit_sees_no_tip(self, unit, make_user, api_client):
        _line, operator, _colleague = unit
        tip = services.log_phone_call(operator, what_seen="queue item")
        outsider = make_user(Role.HOTLINE_OPERATOR)
        client = Client()
        client.force_login(outsider)
        assert client.get("/tips/").status_code == 404
        assert client.get(f"/tips/{tip.public_id}/").status_code == 404
        api_client.force_authenticate(outsider)
        assert api_client.get("/api/v1/tips/").status_code == 404
        assert api_client.get(f"/api/v1/tips/{tip.public_id}/").status_code == 404

    @pytest.mark.parametrize("agreed", [False, True])
    def test_agency_reads_only_what_was_forwarded(self, unit, make_user, agreed, api_client):
        line, operator, _colleague = unit
        tip = services.log_phone_call(
            operator,
            what_seen=WHAT,
            contact=CONTACT,
            contact_may_be_shared=agreed,
            immediate_danger=True,
        )
        police = AgencyFactory(kind=AgencyKind.POLICE)
        staff = Client()
        unlock_client(staff, operator, line.key(operator))
        form = {
            "action": "triage",
            "category": "sexual_exploitation",
            "status": "assigned",
            "assigned_agency": police.pk,
            "forwarded_text": "Flat above a bakery; check tonight.",
            "forward_contact": "on",
        }
        response = staff.post(f"/tips/{tip.public_id}/", form)
        if not agreed:
            # The box is not even offered; the service refuses it too.
            assert response.status_code == 302
            tip.refresh_from_db()
            assert not tip.forwarded_contact
            with pytest.raises(ValidationError) as refusal:
                services.triage(
                    operator,
                    tip,
                    category="other",
                    status="assigned",
                    assigned_agency=police,
                    forward_contact=True,
                    report=read_report(operator, tip),
                )
            assert "forward_contact" in refusal.value.message_dict
        else:
            assert response.status_code == 302
        investigator = make_user(Role.INVESTIGATOR, agency=police)
        viewer = Client()
        viewer.force_login(investigator)
        page = viewer.get(f"/tips/{tip.public_id}/").content.decode()
        assert "Flat above a bakery" in page and WHAT not in page
        assert (CONTACT in page) is agreed
        api_client.force_authenticate(investigator)
        data = api_client.get(f"/api/v1/tips/{tip.public_id}/").json()
        assert data["what_seen"] is None and data["sealed"] is True
        assert data["forwarded_text"] == "Flat above a bakery; check tonight."
        assert (data["forwarded_contact"] == CONTACT) is agreed

    def test_only_the_supervisor_manages_the_unit(self, unit, make_user):
        line, operator, colleague = unit
        client = Client()
        client.force_login(operator)
        assert client.get("/tips/unit/").status_code == 404
        member = TipLineMember.objects.get(user=colleague)
        assert (
            client.post("/tips/unit/", {"action": "remove", "member": member.pk}).status_code == 404
        )
        supervisor = Client()
        unlock_client(supervisor, line.supervisor, line.key(line.supervisor))
        page = supervisor.get("/tips/unit/").content.decode()
        assert operator.username in page or operator.get_full_name() in page
        response = supervisor.post("/tips/unit/", {"action": "remove", "member": member.pk})
        assert (
            response.status_code == 302
            and not TipLineMember.objects.filter(user=colleague).exists()
        )
        assert (
            supervisor.post("/tips/unit/", {"action": "add", "member": "999999"}).status_code == 404
        )


class TestNoMetadata:
    def test_no_access_log_line_for_report_pages(self):
        from gunicorn.config import Config

        from streha import cli
        from streha.web.logging import AccessLogWithoutTipLine

        config = Config()
        config.set("accesslog", "-")
        config.set("access_log_format", '"%(m)s %(U)s" %(s)s')
        logger = AccessLogWithoutTipLine(config)
        stream = io.StringIO()
        logger.access_log.handlers = [logging.StreamHandler(stream)]

        class Response:
            status = "200 OK"
            headers = []
            response_length = 10
            sent = 10

        class Request:
            def __init__(self, path):
                self.path, self.method, self.query = path, "POST", ""
                self.headers, self.version, self.uri = [], (1, 1), path

        for path in ("/report/", "/report/follow-up/", "/learn/", "/tips/"):
            environ = {
                "PATH_INFO": path,
                "REQUEST_METHOD": "POST",
                "RAW_URI": path,
                "SERVER_PROTOCOL": "HTTP/1.1",
            }
            logger.access(Response(), Request(path), environ, __import__("datetime").timedelta(0))
        logged = stream.getvalue()
        assert "/learn/" in logged and "/tips/" in logged
        assert "/report" not in logged
        assert "streha.web.logging.AccessLogWithoutTipLine" in cli.gunicorn_arguments("h", "1", "1")

    def test_accepted_and_refused_reports_answer_with_the_same_size(self, unit):
        client = Client()
        accepted = post_report(client)
        refused = client.post("/report/?lang=en", {"what_seen": WHAT, "token": "forged"})
        missing = post_report(client, {"what_seen": ""})
        assert accepted.status_code == 200 and refused.status_code == missing.status_code == 400
        assert len(accepted.content) == len(refused.content) == len(missing.content)


class TestAbuse:
    def test_flood_from_one_address_does_not_stop_another_behind_the_same_proxy(
        self, unit, settings, one_rate_day
    ):
        settings.STREHA_PROXY_HOPS = 1
        settings.STREHA_TIP_RATE_PER_HOUR = 2
        proxy = {"REMOTE_ADDR": "10.0.0.2"}
        flooder = {**proxy, "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
        client = Client()
        statuses = [post_report(client, **flooder).status_code for _ in range(10)]
        assert statuses[-1] == 400  # far above the limit: refused
        honest = {**proxy, "HTTP_X_FORWARDED_FOR": "203.0.113.5"}
        assert post_report(Client(), **honest).status_code == 200
        # A forged left-most entry does not move the flooder to a fresh limit.
        spoofed = {**proxy, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.66"}
        assert post_report(Client(), **spoofed).status_code == 400

    def test_proof_of_work_grows_under_flood_instead_of_refusing(self, unit, settings, monkeypatch):
        settings.STREHA_TIP_FLOOD_PER_10_MINUTES = 3
        # One ten-minute window for the whole test: its reports must not straddle two.
        monkeypatch.setattr(abuse, "_flood_key", lambda: "tips:flood:test")
        base = settings.STREHA_TIP_POW_BITS
        for n in range(6):
            assert post_report(Client(), REMOTE_ADDR=f"192.0.2.{n}").status_code == 200
        assert abuse.is_flooded()
        harder = abuse.new_challenge("192.0.2.200")
        assert base < harder.bits <= settings.STREHA_TIP_POW_MAX_BITS
        # A newcomer still gets through by doing the larger work.
        assert post_report(Client(), REMOTE_ADDR="192.0.2.200").status_code == 200
        # An answer to the old, smaller challenge is not enough now the token asks for more.
        form = fresh_form(Client(), REMOTE_ADDR="192.0.2.201")
        payload = json.loads(json.dumps(form))
        assert payload["nonce"]

    def test_replayed_form_tokens_are_refused_across_processes(self, unit):
        from django.core.cache import caches

        client = Client()
        form = fresh_form(client)
        data = {**form, "what_seen": WHAT}
        assert client.post("/report/?lang=en", data).status_code == 200
        # Another server process has its own cache connection; the used token is still known.
        other_process = caches.create_connection("tips")
        assert other_process.get_many([]) == {}
        assert "LocMem" not in type(other_process).__name__
        challenge = abuse.signing.loads(form["token"], salt=abuse.SALT)["c"]
        assert other_process.get(f"tips:used:{challenge}") == 1
        assert Client().post("/report/?lang=en", data).status_code == 400
        assert Tip.objects.count() == 1


class TestPublicForm:
    def test_missing_field_is_named_in_a_focused_summary_before_any_timing(self, settings):
        settings.STREHA_TIP_MIN_SECONDS = 600  # the timing check would fail too
        client = Client()
        body = post_report(client, {"what_seen": ""}).content.decode()
        summary = body.split('id="error-summary"')[1].split("</div>")[0]
        assert 'href="#id_what_seen"' in summary and "moment" not in summary
        assert 'tabindex="-1"' in body.split('id="error-summary"')[0][-200:] + summary[:80]

    def test_numbers_are_tappable_and_no_dashes_option(self, settings):
        settings.STREHA_HOTLINE_NUMBER = "0800 11 222"
        body = Client().get("/report/?lang=en").content.decode()
        assert 'href="tel:080011222"' in body and 'href="tel:192"' in body
        assert "---------" not in body
        with open(finders.find("tips/public.css")) as stylesheet:
            css = stylesheet.read()
        assert "input[type=checkbox]{width:1.75rem;height:1.75rem;min-width:26px" in css


class TestHotlinePages:
    def test_triage_form_gives_way_to_the_conversion(self, unit):
        line, operator, _colleague = unit
        tip = services.log_phone_call(operator, what_seen="became a police report")
        services.convert(operator, tip, reference="KP-2026-0099")
        client = Client()
        unlock_client(client, operator, line.key(operator))
        page = client.get(f"/tips/{tip.public_id}/").content.decode()
        assert 'id="triage-converted"' in page and "KP-2026-0099" in page
        assert 'name="status"' not in page and 'id="convert-police-report"' not in page

    def test_queue_rows_show_what_was_reported_to_members_only(self, unit, make_user):
        line, operator, _colleague = unit
        police = AgencyFactory(kind=AgencyKind.POLICE)
        tip = services.log_phone_call(operator, what_seen="Synthetic: boys begging at the mall")
        services.triage(
            operator, tip, category="forced_begging", status="assigned", assigned_agency=police
        )
        member = Client()
        unlock_client(member, operator, line.key(operator))
        assert "boys begging at the mall" in member.get("/tips/").content.decode()
        agency = Client()
        agency.force_login(make_user(Role.INVESTIGATOR, agency=police))
        listing = agency.get("/tips/").content.decode()
        assert tip.reference in listing and "boys begging" not in listing

    def test_starting_the_line_seals_what_was_stored_before(self, make_user):
        from django.utils import timezone

        old = Tip(channel="web", received_on=timezone.localdate())
        old.what_seen = "Synthetic: stored before sealing"
        old.save()
        operator = make_user(
            Role.HOTLINE_OPERATOR, agency=AgencyFactory(kind=AgencyKind.NATIONAL_COORDINATOR)
        )
        operator.tip_line = open_tip_line(operator)
        old.refresh_from_db()
        assert old.what_seen == "" and old.sealed_report
        assert read_report(operator, old).what_seen == "Synthetic: stored before sealing"

    def test_password_change_relocks_the_key(self, unit, settings):
        settings.STREHA_TIP_LOCK_OPSLIMIT = sealing.ARGON.OPSLIMIT_MIN
        settings.STREHA_TIP_LOCK_MEMLIMIT = sealing.ARGON.MEMLIMIT_MIN
        line, operator, _colleague = unit
        operator.set_password(PASSWORD)
        operator.save()
        client = Client()
        client.post("/accounts/login/", {"login": operator.username, "password": PASSWORD})
        new = "Another-Tip-Line-Pass-2027"
        response = client.post(
            "/accounts/password/change/",
            {"oldpassword": PASSWORD, "password1": new, "password2": new},
        )
        assert response.status_code == 302
        assert unlock.open_member_key(operator, new) is not None
        assert unlock.open_member_key(operator, PASSWORD) is None
