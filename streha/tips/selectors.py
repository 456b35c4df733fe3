"""Reads of the tip line: the triage queue, one tip (audited), campaign figures."""

from collections import Counter

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.audit import services as audit
from streha.tips.models import Tip, TipStatus

SMALL_CELL = 5
OPEN_STATUSES = (TipStatus.NEW, TipStatus.TRIAGE, TipStatus.ASSIGNED)


def queue(user, *, status: str = "open") -> QuerySet[Tip]:
    """Urgent first (immediate danger, then a child involved), then oldest first."""
    tips = policy.tips_visible_to(user).select_related("municipality", "assigned_agency")
    if status == "open":
        tips = tips.filter(status__in=OPEN_STATUSES)
    elif status in TipStatus.values:
        tips = tips.filter(status=status)
    return tips.order_by("-priority", "received_on", "pk")


def read_tip(user, public_id, *, request=None) -> Tip:
    tip = policy.tips_visible_to(user).filter(public_id=public_id).first()
    if tip is None:
        raise Http404
    audit.record(
        user,
        audit.Action.READ,
        obj=tip,
        field_groups=[Tip.FIELD_GROUP],
        purpose="tip triage",
        request=request,
    )
    return tip


def campaign_figures() -> dict:
    """Tips per ISO week by channel, category and municipality, and how many were converted.
    Cells under ``SMALL_CELL`` are suppressed (None) so no reporter can be singled out."""
    rows = Tip.objects.values_list(
        "received_on", "channel", "category", "municipality__name_sq", "status"
    )
    weeks: dict[str, Counter] = {}
    for received_on, channel, category, municipality, status in rows.iterator():
        year, week, _day = received_on.isocalendar()
        counter = weeks.setdefault(f"{year}-W{week:02d}", Counter())
        counter["total"] += 1
        counter[f"channel:{channel}"] += 1
        counter[f"category:{category}"] += 1
        counter[f"municipality:{municipality or '-'}"] += 1
        if status == TipStatus.CONVERTED:
            counter["converted"] += 1
    return {
        week: {
            key: (value if value >= SMALL_CELL else None) for key, value in sorted(counts.items())
        }
        for week, counts in sorted(weeks.items())
    }


def navigation_entries(user) -> list:
    entries = []
    if policy.is_hotline_operator(user) or (
        user.agency_id and user.has_role(*policy.TIP_ROLES_OF_ASSIGNED_AGENCY)
    ):
        entries.append((_("Tips"), reverse("tips:queue")))
    if policy.can_edit_campaign(user):
        entries.append((_("Campaign"), reverse("tips:campaign")))
    return entries


def my_work_panels(user) -> list:
    from streha.web.selectors import Panel

    if not policy.is_hotline_operator(user):
        return []
    open_tips = queue(user)
    return [
        Panel(
            title=_("Tip line"),
            figures=[
                (_("Open tips"), open_tips.count()),
                (_("Urgent open tips"), open_tips.filter(priority__gt=0).count()),
            ],
            links=[
                (_("Triage queue"), reverse("tips:queue")),
                (_("Log a hotline call"), reverse("tips:phone")),
            ],
        )
    ]
