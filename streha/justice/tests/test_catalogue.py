"""The offence catalogue is data: loaded from the country's file, idempotent, flags what was not
confirmed, keeps a legal officer's corrections, marks the 2019 series break."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from streha.justice import catalogue
from streha.justice.models import CriminalCode, Offence, ThbScope

pytestmark = pytest.mark.django_db

RELATED = {
    "sexual_services_of_victim",
    "smuggling_of_migrants",
    "withholding_identity_papers",
    "slavery_forced_labour",
    "facilitating_prostitution",
    "child_mistreatment",
}


def test_command_loads_the_codes_and_offences_once():
    out = StringIO()
    call_command("loadoffences", "XK", stdout=out)
    assert "3 criminal codes, 15 offences" in out.getvalue()
    call_command("loadoffences", "XK", stdout=StringIO())
    assert CriminalCode.objects.count() == 3
    assert Offence.objects.count() == 15


def test_unknown_country_is_refused():
    with pytest.raises(CommandError):
        call_command("loadoffences", "ZZ", stdout=StringIO())
    with pytest.raises(ValueError):
        catalogue.load_offences("../xk")


def test_related_offences_and_the_core_offence_in_each_code(offences):
    for code in ("04/L-082", "06/L-074"):
        keys = set(Offence.objects.filter(criminal_code__code=code).values_list("key", flat=True))
        assert RELATED | {"trafficking"} <= keys
    core = Offence.objects.filter(scope=ThbScope.CORE)
    assert set(core.values_list("key", flat=True)) == {"trafficking"}
    assert set(core.values_list("criminal_code__code", flat=True)) == {
        "UNMIK-2003-25",
        "04/L-082",
        "06/L-074",
    }


def test_renumbering_is_visible_across_codes(offences):
    assert Offence.objects.get(key="trafficking", criminal_code__code="04/L-082").article == "171"
    assert Offence.objects.get(key="trafficking", criminal_code__code="06/L-074").article == "165"


def test_what_was_not_confirmed_is_flagged_in_the_data(offences):
    confirmed_231 = Offence.objects.get(criminal_code__code="04/L-082", article="231")
    # Article and minimum were read in the text; the maximum was not.
    assert "article" not in confirmed_231.unconfirmed
    assert "min_months" not in confirmed_231.unconfirmed
    assert "max_months" in confirmed_231.unconfirmed
    old_trafficking = Offence.objects.get(key="trafficking", criminal_code__code="04/L-082")
    assert {"article", "min_months", "max_months"} <= set(old_trafficking.unconfirmed)
    assert Offence.objects.exclude(unconfirmed=[]).count() == Offence.objects.count()


def test_the_2019_code_is_a_series_break(offences):
    assert [c.code for c in catalogue.series_breaks()] == ["06/L-074"]
    assert catalogue.is_series_break_year(2019)
    assert not catalogue.is_series_break_year(2018)


def test_offences_take_their_validity_from_their_code(offences):
    new = Offence.objects.get(key="trafficking", criminal_code__code="06/L-074")
    old = Offence.objects.get(key="trafficking", criminal_code__code="04/L-082")
    assert new.valid_from.year == 2019 and new.valid_to is None
    assert old.valid_to is not None and old.valid_to < new.valid_from


def test_a_local_correction_survives_a_reload_unless_forced(offences):
    offence = Offence.objects.get(key="smuggling_of_migrants", criminal_code__code="06/L-074")
    offence.article, offence.unconfirmed, offence.edited_locally = "164a", [], True
    offence.save()
    catalogue.load_offences("XK")
    offence.refresh_from_db()
    assert offence.article == "164a" and offence.unconfirmed == []
    catalogue.load_offences("XK", force=True)
    # The shipped record comes back beside the corrected one (a different article number).
    assert Offence.objects.filter(key="smuggling_of_migrants", article="164").exists()


def test_titles_follow_the_language(offences):
    from django.utils import translation

    offence = Offence.objects.get(key="trafficking", criminal_code__code="06/L-074")
    with translation.override("sq"):
        assert offence.title == "Trafikimi me njerëz"
    with translation.override("sr-latn"):
        assert offence.title == "Trgovina ljudima"
    with translation.override("en"):
        assert offence.title == "Trafficking in persons"


def test_admin_save_marks_a_local_correction(offences, admin_client):
    offence = Offence.objects.get(key="trafficking", criminal_code__code="06/L-074")
    from streha.justice.admin import OffenceAdmin

    admin = OffenceAdmin(Offence, None)
    admin.save_model(None, offence, None, True)
    offence.refresh_from_db()
    assert offence.edited_locally
