"""Factories for case tests."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from streha.cases.models import Case, Source
from streha.testing.factories import AgencyFactory, PersonFactory


class CaseFactory(DjangoModelFactory):
    class Meta:
        model = Case

    reference = factory.Sequence(lambda n: f"C-T{n:09d}")
    owner_agency = factory.SubFactory(AgencyFactory)
    person = factory.SubFactory(PersonFactory, owner_agency=factory.SelfAttribute("..owner_agency"))
    source = Source.NGO
    first_contact_on = factory.LazyFunction(timezone.localdate)
