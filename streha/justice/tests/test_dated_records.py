"""The dated records of a criminal case share one base (``models.dated_record``): each lists by
its own date, then in the order recorded, and shows its kind and number only, never what it
holds; the base is abstract, so no table or migration came with it."""

import pytest
from django.apps import apps

from streha.justice import models

DATED = {
    models.Judgment: ("decided_on", "judgment"),
    models.Confiscation: ("decided_on", "confiscation"),
    models.StateCompensation: ("applied_on", "compensation"),
    models.ResidencePermit: ("decided_on", "permit"),
    models.VictimInterview: ("interviewed_on", "interview"),
    models.ProtectionOrder: ("ordered_on", "order"),
}


@pytest.mark.parametrize("model", DATED, ids=lambda model: model.__name__)
def test_a_dated_record_lists_by_its_date_and_shows_no_content(model):
    dated_by, name = DATED[model]
    assert model._meta.ordering == [dated_by, "pk"]
    assert model._meta.get_field(dated_by).get_internal_type() == "DateField"
    assert str(model(pk=7)) == f"{name} 7"
    (base,) = model.__bases__
    assert base._meta.abstract and base.__name__ == "DatedRecord"


def test_the_base_is_no_table():
    tables = {model._meta.db_table for model in apps.get_app_config("justice").get_models()}
    assert not any("datedrecord" in table for table in tables)
