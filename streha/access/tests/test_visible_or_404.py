"""``policy.visible_or_404(require=...)``: what a user may not do with an object they can see is
refused before the read is audited and before anything of the object is decrypted, and never
for an object they cannot see (that stays a 404, saying nothing of its existence)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from streha.access import policy
from streha.accounts.models import Role
from streha.audit import read_context
from streha.audit.models import Action, AuditChainHead, AuditEvent
from streha.audit.reasons import ReasonRequired
from streha.people import selectors
from streha.testing.factories import AgencyFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(make_user):
    """A case worker of the owning agency: may view and edit the person, not export it."""
    return make_user(Role.CASE_WORKER, agency=AgencyFactory())


@pytest.fixture
def person(worker):
    return PersonFactory(owner_agency=worker.agency)


def last_seq() -> int:
    return AuditChainHead.objects.get().last_seq


def open_person(user, person, asked: list, require):
    def purpose_of(found, access):
        asked.append("purpose")
        return "consulted"

    def requiring(access):
        asked.append("require")
        require(access)

    return policy.visible_or_404(
        user,
        policy.persons_visible_to(user),
        policy.person_access,
        purpose_of=purpose_of,
        require=requiring,
        public_id=person.public_id,
    )


def test_a_refused_requirement_audits_and_decrypts_nothing(worker, person):
    before, asked = last_seq(), []
    with read_context.request_scope() as scope, pytest.raises(PermissionDenied):
        open_person(worker, person, asked, lambda access: policy.require(access.can_export))
    assert asked == ["require"]  # no reason was asked for
    assert scope.decrypted == set() and scope.named == set()
    assert last_seq() == before


def test_a_met_requirement_reads_and_audits_as_without_it(worker, person):
    before, asked = last_seq(), []
    with read_context.request_scope(defer_reads=False) as scope:
        found, access = open_person(
            worker, person, asked, lambda access: policy.require(access.can_edit)
        )
        assert found.given_name == person.given_name  # decryptable: the read was audited
    assert asked == ["require", "purpose"]
    assert access.can_edit and ("people.person", person.pk) in scope.named
    event = AuditEvent.objects.get(seq=before + 1)
    assert (event.action, event.object_id, event.purpose) == (
        Action.READ,
        str(person.public_id),
        "consulted",
    )


def test_an_object_out_of_sight_is_a_404_before_any_requirement(make_user, person):
    stranger, asked = make_user(Role.SUPERVISOR, agency=AgencyFactory()), []
    with read_context.request_scope(), pytest.raises(Http404):
        open_person(stranger, person, asked, lambda access: policy.require(False))
    assert asked == []


def test_read_person_refuses_before_it_asks_for_a_reason(worker, person):
    before = last_seq()
    with read_context.request_scope() as scope:
        with pytest.raises(ReasonRequired):  # without a requirement, the reason comes first
            selectors.read_person(worker, person.public_id)
        with pytest.raises(PermissionDenied):
            selectors.read_person(
                worker,
                person.public_id,
                require=lambda access: policy.require(access.can_export),
            )
        assert scope.decrypted == set()
    assert last_seq() == before
