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
from streha.tips import sealing, services
from streha.tips.models import Category, Channel, ConversionKind, Tip, TipMessage, TipStatus
from streha.tips.services import Report, ReporterAccess
from streha.tips.unlock import MemberKey

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
    return tips.order_by("-priority", "received_on", "public_id")


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


@dataclass(frozen=True)
class ThreadEntry:
    number: int
    author: str
    author_label: str
    body: str | None  # None: sealed to a key this reader does not hold
    sent_on: object


def _unit_keys(user, key: MemberKey | None) -> dict:
    if key is None or key.user_id != user.pk or not policy.can_read_tip_content(user):
        return {}
    return services.unit_private_keys(key)


def open_report(user, key: MemberKey | None, tip: Tip, *, unit_keys=None) -> Report | None:
    """What was reported, for a member of the hotline unit whose key is unlocked; else None.

    The report must carry the tip's own id: a sealed report moved onto another row (by someone
    who writes to the database) does not open as that tip."""
    keys = _unit_keys(user, key) if unit_keys is None else unit_keys
    private = keys.get(tip.sealed_to_id)
    if private is None or not tip.sealed_report:
        return None
    try:
        payload = sealing.open_json(private, tip.sealed_report)
    except sealing.Unreadable:
        return None
    if payload.get("tip") != str(tip.public_id):
        return None
    return Report(
        what_seen=payload["what_seen"],
        where=payload["where"],
        when=payload["when"],
        contact=payload["contact"],
        contact_may_be_shared=bool(payload.get("contact_may_be_shared")),
    )


def _entry(message: TipMessage, body: str | None) -> ThreadEntry:
    return ThreadEntry(
        number=message.number,
        author=message.author,
        author_label=str(message.get_author_display()),
        body=body,
        sent_on=message.sent_on,
    )


def _open_message(private, sealed: str, message: TipMessage) -> str | None:
    if private is None or not sealed:
        return None
    try:
        payload = sealing.open_json(private, sealed)
    except sealing.Unreadable:
        return None
    if payload.get("tip") != str(message.tip.public_id) or payload.get("number") != message.number:
        return None
    return payload["body"]


def hotline_thread(user, key: MemberKey | None, tip: Tip) -> list[ThreadEntry]:
    keys = _unit_keys(user, key)
    return [
        _entry(m, _open_message(keys.get(m.sealed_to_id), m.sealed_for_hotline, m))
        for m in tip.messages.select_related("tip")
    ]


def reporter_thread(access: ReporterAccess) -> list[ThreadEntry]:
    """The reporter's view of the drop box, opened with the key their receipt derives."""
    return [
        _entry(m, _open_message(access.key, m.sealed_for_reporter, m))
        for m in access.tip.messages.select_related("tip")
    ]


def queue_previews(user, key: MemberKey | None, tips) -> dict:
    """The first words of each report on a queue page, for an unlocked member (else empty)."""
    keys = _unit_keys(user, key)
    if not keys:
        return {}
    previews = {}
    for tip in tips:
        report = open_report(user, key, tip, unit_keys=keys)
        if report is not None:
            text = " ".join(report.what_seen.split())
            previews[tip.pk] = text if len(text) <= 120 else text[:119] + "…"
    return previews


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
    if policy.can_see_tip_queue(user):
        entries.append((_("Tips"), reverse("tips:queue")))
    if policy.can_manage_tip_line(user):
        entries.append((_("Hotline unit"), reverse("tips:unit")))
    if policy.can_edit_campaign(user):
        entries.append((_("Campaign"), reverse("tips:campaign")))
    return entries


def my_work_panels(user) -> list:
    """The hotline sees its queue; an agency that tips were assigned to sees how many are
    open (only when there are some, so the page stays quiet for everyone else)."""
    from streha.web.selectors import Panel, bounded_count

    if not policy.can_see_tip_queue(user):
        return []
    if not policy.is_tip_line_member(user):
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
            links=[(_("Triage queue"), reverse("tips:queue"))]
            + (
                [(_("Log a hotline call"), reverse("tips:phone"))]
                if policy.can_triage_tips(user)
                else []
            ),
        )
    ]
