"""Questionnaire titles are data (the seeded questionnaires) translated through the catalogues:
every current questionnaire reads in Albanian and Serbian, never in the English source."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from streha.cases.models import Questionnaire

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["sq", "sr-latn"])
def test_every_questionnaire_title_is_translated(language):
    titles = list(Questionnaire.objects.filter(is_current=True).values_list("title", flat=True))
    assert len(titles) >= 5
    with translation.override(language):
        untranslated = [title for title in titles if gettext(title) == title]
    assert untranslated == []
