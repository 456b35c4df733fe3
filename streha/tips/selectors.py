"""Reads of the tip line: the triage queue, one tip (audited), campaign figures."""

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from streha.access import policy
from streha.audit import services as audit
from streha.places.models import Municipality
from streha.tips.models import Category, Channel, ConversionKind, Tip, TipStatus

SMALL_CELL = 5
OPEN_STATUSES = (TipStatus.NEW, TipStatus.TRIAGE, TipStatus.ASSIGNED)
DIMENSIONS = ("channel", "category", "municipality")


def queue(user, *, status: str = "open") -> QuerySet[Tip]:
    """Urgent first (immediate danger, then a child involved), then oldest first."""
    tips = policy.tips_visible_to(user).select_related("municipality", "assigned_agency", "case")
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


def case_url(user, tip: Tip) -> str:
    """The address of the victim case opened from ``tip``, if ``user`` may see that case."""
    if tip.case_id is None or not policy.case_access(user, tip.case).can_view:
        return ""
    return reverse("cases:detail", kwargs={"public_id": tip.case.public_id})


@dataclass
class WeekFigures:
    """One ISO week of the campaign figures; ``None`` stands for a suppressed cell ("<5")."""

    week: str
    total: int | None
    converted: int | None  # into a police report or a victim case
    cases: int | None  # of those, into a victim case
    cells: list["Cell"] = field(default_factory=list)

    def cell(self, dimension: str, key: str) -> int | None:
        for cell in self.cells:
            if (cell.dimension, cell.key) == (dimension, key):
                return cell.count
        raise KeyError((dimension, key))


class Cell(NamedTuple):
    dimension: str  # "channel", "category" or "municipality"
    key: str  # e.g. "forced_labour", or a municipality's id ("" when not given)
    heading: str  # the dimension, translated
    label: str  # the value, translated
    count: int | None  # None: suppressed


def suppress(counts: dict[str, int], total: int) -> dict[str, int | None]:
    """Hide cells under ``SMALL_CELL``; if a dimension then hides exactly one cell while its
    total is shown, hide the next smallest too, or the hidden one is total minus the others."""
    shown: dict[str, int | None] = {
        key: (value if value >= SMALL_CELL else None) for key, value in counts.items()
    }
    hidden = [key for key, value in shown.items() if value is None]
    if len(hidden) == 1 and total >= SMALL_CELL:
        visible = sorted((value, key) for key, value in shown.items() if value is not None)
        if visible:
            shown[visible[0][1]] = None
    return shown


def campaign_figures() -> list[WeekFigures]:
    """Tips per ISO week by channel, category and municipality, and how many were converted
    into a police report or case. Small cells are suppressed (primary and complementary) so
    that no reporter can be singled out; only aggregate counts ever leave this function."""
    rows = Tip.objects.values_list(
        "received_on", "channel", "category", "municipality_id", "status", "converted_kind"
    )
    weeks: dict[str, dict[str, Counter]] = {}
    for received_on, channel, category, municipality_id, status, kind in rows.iterator():
        year, week, _day = received_on.isocalendar()
        counters = weeks.setdefault(
            f"{year}-W{week:02d}", {name: Counter() for name in (*DIMENSIONS, "all")}
        )
        counters["all"]["total"] += 1
        counters["channel"][channel] += 1
        counters["category"][category] += 1
        counters["municipality"][str(municipality_id or "")] += 1
        if status == TipStatus.CONVERTED:
            counters["all"]["converted"] += 1
            if kind == ConversionKind.VICTIM_CASE:
                counters["all"]["cases"] += 1
    municipalities = {
        str(m.pk): m.name
        for m in Municipality.objects.filter(
            pk__in={int(key) for c in weeks.values() for key in c["municipality"] if key}
        )
    }
    labels = {
        "channel": dict(Channel.choices),
        "category": dict(Category.choices),
        "municipality": {**municipalities, "": _("Not given")},
    }
    headings = {
        "channel": _("Channel"),
        "category": _("Category"),
        "municipality": _("Municipality"),
    }
    figures = []
    for week, counters in sorted(weeks.items()):
        total = counters["all"]["total"]
        converted, cases = counters["all"]["converted"], counters["all"]["cases"]
        result = WeekFigures(
            week=week,
            total=total if total >= SMALL_CELL else None,
            converted=converted if converted >= SMALL_CELL else None,
            cases=cases if cases >= SMALL_CELL else None,
        )
        # Converted minus cases gives the police reports: hide the cases if that is small.
        if result.converted is not None and 0 < converted - cases < SMALL_CELL:
            result.cases = None
        for dimension in DIMENSIONS:
            shown = suppress(dict(counters[dimension]), total)
            for key in sorted(shown, key=lambda k: str(labels[dimension].get(k, k))):
                label = str(labels[dimension].get(key, key))
                result.cells.append(
                    Cell(dimension, key, str(headings[dimension]), label, shown[key])
                )
        figures.append(result)
    return figures


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
    """The hotline sees its queue; an agency that tips were assigned to sees how many are
    open (only when there are some, so the page stays quiet for everyone else)."""
    from streha.web.selectors import Panel, bounded_count

    if not policy.is_hotline_operator(user):
        if not (user.agency_id and user.has_role(*policy.TIP_ROLES_OF_ASSIGNED_AGENCY)):
            return []
        assigned = queue(user)
        count = bounded_count(assigned)
        if not count:
            return []
        return [
            Panel(
                title=_("Tips assigned to your agency"),
                figures=[
                    (_("Open tips"), count),
                    (_("Urgent open tips"), bounded_count(assigned.filter(priority__gt=0))),
                ],
                links=[(_("Tips"), reverse("tips:queue"))],
            )
        ]
    open_tips = queue(user)
    return [
        Panel(
            title=_("Tip line"),
            figures=[
                (_("Open tips"), bounded_count(open_tips)),
                (_("Urgent open tips"), bounded_count(open_tips.filter(priority__gt=0))),
            ],
            links=[
                (_("Triage queue"), reverse("tips:queue")),
                (_("Log a hotline call"), reverse("tips:phone")),
            ],
        )
    ]
