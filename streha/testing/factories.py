"""factory_boy factories for synthetic test data."""

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from streha.accounts.models import Agency, AgencyKind, RoleGrant, User
from streha.people.models import Gender, Person
from streha.places.models import Municipality, Region

TEST_PASSWORD = "Correct-Horse-Battery-9"  # noqa: S105 - test credential


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = "prishtina"
    country = "XK"
    name_sq = "Prishtinë"
    name_sr = "Priština"
    name_en = "Pristina"


class MunicipalityFactory(DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ["code"]

    code = "prishtina"
    region = factory.SubFactory(RegionFactory)
    name_sq = "Prishtinë"
    name_sr = "Priština"
    name_en = "Pristina"


class AgencyFactory(DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"agency-{n}")
    name = factory.Sequence(lambda n: f"Test agency {n}")
    kind = AgencyKind.SHELTER
    municipality = factory.SubFactory(MunicipalityFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            # Test users' roles are in effect at once (as if approved by a second administrator).
            RoleGrant.objects.bulk_create(
                RoleGrant(user=self, role=role, approved_at=timezone.now()) for role in extracted
            )
            self.forget_roles()


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    reference = factory.Sequence(lambda n: f"T-{n:08d}")
    owner_agency = factory.SubFactory(AgencyFactory)
    given_name = factory.Sequence(lambda n: f"Testname{n}")
    family_name = "Synthetic"
    gender = Gender.FEMININE
    citizenship = "XK"
