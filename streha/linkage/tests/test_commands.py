import csv
import datetime
import json

import pytest
from django.core.management import CommandError, call_command

from streha.accounts.models import Role
from streha.audit.models import AuditEvent
from streha.linkage import services
from streha.linkage.tests.helpers import make_pair
from streha.testing.factories import AgencyFactory, PersonFactory, UserFactory

SECRET = "a-shared-secret-agreed-out-of-band"


@pytest.mark.django_db
def test_dedup_export_writes_reference_and_cluster(tmp_path):
    agency = AgencyFactory()
    one, two, alone = (PersonFactory(owner_agency=agency) for _ in range(3))
    reviewer = UserFactory(agency=agency, roles=[Role.SUPERVISOR])
    services.decide_pair(reviewer, make_pair(one, two), decision="same", reason="Same passport.")
    out = tmp_path / "clusters.csv"
    call_command("dedup", "export", "--out", str(out))
    with open(out, newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["reference", "cluster"]
    clusters = {reference: cluster for reference, cluster in rows[1:]}
    assert clusters[one.reference] == clusters[two.reference] == str(min(one.pk, two.pk))
    assert clusters[alone.reference] == str(alone.pk)
    with pytest.raises(CommandError):
        call_command("dedup", "export", "--out", str(tmp_path / "missing" / "x.csv"))


@pytest.mark.django_db
def test_pprl_export_and_match_count_the_overlap_without_identities(tmp_path, monkeypatch):
    ours = AgencyFactory()
    shared = [
        ("Teuta", "Thaçi", datetime.date(1990, 4, 2), "1100220033"),
        ("Jelena", "Đorđević", datetime.date(1985, 7, 9), "2200330044"),
    ]
    for given, family, born, number in shared:
        PersonFactory(
            owner_agency=ours,
            given_name=given,
            family_name=family,
            date_of_birth=born,
            personal_number=number,
        )
    PersonFactory(owner_agency=ours, given_name="Mimoza", family_name="Hoxha")
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET)
    before = AuditEvent.objects.count()
    call_command(
        "pprl", "export", "--out", str(tmp_path / "ours.json"), "--secret-file", str(secret_file)
    )
    assert AuditEvent.objects.count() == before + 1
    exported = (tmp_path / "ours.json").read_text()
    assert "Teuta" not in exported and "1100220033" not in exported and SECRET not in exported
    assert len(json.loads(exported)["clks"]) == 3
    # The partner's file: the same two persons spelled their way, and one other person.
    from streha.linkage import engine, pprl

    rows = pprl.rows_of(
        [
            engine.Identity(1, "Teuta", "Thaci", "1990-04-02", personal_number="1100220033"),
            engine.Identity(2, "Jelena", "Djordjevic", "1985-07-09", personal_number="2200330044"),
            engine.Identity(3, "Vesna", "Petrović", "1979-01-30"),
        ]
    )
    secret = SECRET.encode()
    pprl.write(
        tmp_path / "theirs.json", ["t1", "t2", "t3"], pprl.encode(rows, secret, pprl.load_schema())
    )
    from io import StringIO

    out = StringIO()
    call_command(
        "pprl", "match", "--ours", str(tmp_path / "ours.json"),
        "--theirs", str(tmp_path / "theirs.json"), "--pairs", str(tmp_path / "pairs.csv"),
        stdout=out,
    )  # fmt: skip
    assert out.getvalue().strip().endswith(": 2")
    with open(tmp_path / "pairs.csv", newline="") as handle:
        pairs = list(csv.DictReader(handle))
    assert sorted(p["theirs"] for p in pairs) == ["t1", "t2"]
    with pytest.raises(CommandError):
        call_command("pprl", "match", "--ours", str(tmp_path / "secret"), "--theirs", "nowhere")


@pytest.mark.django_db
def test_pprl_export_refuses_a_short_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("STREHA_PPRL_SECRET", "short")
    with pytest.raises(CommandError):
        call_command("pprl", "export", "--out", str(tmp_path / "x.json"))
    assert not (tmp_path / "x.json").exists()
