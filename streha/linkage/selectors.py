"""Reads of the linkage app, scoped by the access policy; reads of identities are audited."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.http import Http404

from streha.access import policy
from streha.accounts.models import User
from streha.audit import services as audit
from streha.linkage.models import CandidatePair, LinkageModel, PairStatus, PersonCluster

PAGE_SIZE = 25
OPEN = (PairStatus.PENDING, PairStatus.UNSURE)


def cluster_of_person_ids(ids: Iterable[int]) -> dict[int, int]:
    """Person id -> cluster id, for statistics that count one per real person. A person with
    no accepted link is its own cluster (its own id). Reveals nothing but opaque numbers."""
    ids = list(ids)
    found = dict(
        PersonCluster.objects.filter(person_id__in=ids).values_list("person_id", "cluster")
    )
    return {pk: found.get(pk, pk) for pk in ids}


def clusters_exist() -> bool:
    return PersonCluster.objects.exists()


def current_model() -> LinkageModel | None:
    return LinkageModel.objects.order_by("-trained_at", "-pk").first()


@dataclass(frozen=True)
class Queue:
    page: Page  # pairs the user may review (no names in the list)
    hidden: int  # open pairs about the user's persons the user may not review (at most the cap)
    hidden_more: bool = False  # more than ``hidden``: counting stopped at the cap

    @property
    def hidden_shown(self) -> str:
        """The number as the page shows it: "1000+" past the cap."""
        return f"{self.hidden}+" if self.hidden_more else str(self.hidden)


def review_queue(user: User, *, status: str = "open", page: int | str = 1) -> Queue:
    pairs = policy.pairs_reviewable_by(user).select_related(
        "person_a__owner_agency", "person_b__owner_agency"
    )
    if status == "open":
        pairs = pairs.filter(status__in=OPEN)
    elif status in PairStatus.values:
        pairs = pairs.filter(status=status)
    reviewable = [pair for pair in pairs.order_by("-match_probability", "pk")[:2000]]
    reviewable = [pair for pair in reviewable if policy.can_review_pair(user, pair)]
    hidden, more = (
        hidden_pairs(user, {pair.pk for pair in reviewable}) if status == "open" else (0, False)
    )
    return Queue(
        page=Paginator(reviewable, PAGE_SIZE).get_page(page), hidden=hidden, hidden_more=more
    )


def hidden_pairs(user: User, shown: set[int], *, cap: int | None = None) -> tuple[int, bool]:
    """How many open pairs touching ``user``'s scope are not among ``shown`` (the pairs the
    user may review), and whether there are more than that: counted like the home panel,
    part of the scope by part through the person indexes, stopping past ``cap`` (default
    ``PANEL_CAP``). One OR over a large agency's persons read every one of them."""
    cap = PANEL_CAP if cap is None else cap
    found = open_pairs_touching(user, cap=cap + len(shown))
    hidden = len(found - shown)
    return min(hidden, cap), hidden > cap


def read_pair(user: User, public_id, *, request=None) -> CandidatePair:
    """A pair both of whose identities ``user`` may see (else 404), audited as a read of both."""
    pair = (
        policy.pairs_reviewable_by(user)
        .select_related("person_a__owner_agency", "person_b__owner_agency")
        .filter(public_id=public_id)
        .first()
    )
    if pair is None or not policy.can_review_pair(user, pair):
        raise Http404
    audit.record(
        user,
        audit.Action.READ,
        obj=pair,
        field_groups=["identity"],
        purpose="duplicate review",
        request=request,
        subjects=[pair.person_a_id, pair.person_b_id],
    )
    return pair


def export_rows():
    """``(reference, cluster)`` for every person, in reference order (for checking)."""
    from streha.people.models import Person

    clusters = dict(PersonCluster.objects.values_list("person_id", "cluster"))
    for pk, reference in Person.objects.order_by("reference").values_list("pk", "reference"):
        yield reference, clusters.get(pk, pk)


# --- Contributions to the UI shell ---------------------------------------------------------------


def navigation_entries(user) -> list:
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    if not policy.can_see_duplicate_queue(user):
        return []
    return [(_("Duplicates"), reverse("linkage:queue"))]


# The home page counts open pairs up to here, then says "1000+": an exact count over a large
# agency's persons on every visit to the home page would cost a second at national scale.
PANEL_CAP = 1000


def open_pairs_touching(user: User, *, cap: int) -> set[int]:
    """Primary keys of the open pairs touching ``user``'s scope, all of them when there are at
    most ``cap``, else more than ``cap``: each part of the scope is read up to ``cap`` and one
    more, all parts in one query (``read_together``: a round trip per part cost the home page
    more than the reading)."""
    from streha.cases.selectors_batch import read_together

    parts = [
        pairs.filter(status__in=OPEN).values_list("pk", flat=True)[: cap + 1]
        for pairs in policy.pair_scope_parts(user)
    ]
    found: set[int] = set()
    for ids in read_together(*parts, shape="open pairs touching"):
        found.update(ids)
    return found


def my_work_panels(user) -> list:
    """Open possible duplicates about the user's persons (reviewable or to ask about)."""
    from django.urls import reverse
    from django.utils.translation import gettext_lazy as _

    from streha.web.selectors import Panel

    if not policy.role_field_groups(user):
        return []
    found = open_pairs_touching(user, cap=PANEL_CAP)
    if not found:
        return []
    count = f"{PANEL_CAP}+" if len(found) > PANEL_CAP else len(found)
    return [
        Panel(
            title=_("Possible duplicates"),
            figures=[(_("Open"), count)],
            links=[(_("Review possible duplicates"), reverse("linkage:queue"))],
        )
    ]


def linked_persons() -> dict[int, int]:
    """Person id -> cluster id of every person with an accepted link (the statistics hook:
    ``streha.statistics.figures`` counts each cluster once). Persons absent are their own."""
    return dict(PersonCluster.objects.values_list("person_id", "cluster"))
