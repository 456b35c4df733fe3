"""Reads of criminal cases, scoped by the access policy and audited where they show protected
data. The case sheet (``case_sheet``) is the one description of a case both the page and the
API print, so what one shows the other shows: never a witness's person, whoever asks."""

from dataclasses import dataclass
from datetime import timedelta

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from streha.access import policy
from streha.accounts.models import Agency, AgencyKind, User
from streha.audit import services as audit
from streha.cases.models import Case
from streha.cases.selectors_batch import read_together
from streha.justice import catalogue, services
from streha.justice.actions import CaseView
from streha.justice.models import (
    Charge,
    CriminalCase,
    Deadline,
    DeadlineKind,
    EventKind,
    FunnelFigure,
    Instance,
    Judgment,
    Measure,
    Outcome,
    ProceedingEvent,
    ProtectionOrder,
    Stage,
    Witness,
)
from streha.web.labels import choice_label, enum_label
from streha.web.paging import page_number

PAGE_SIZE = 25
MAX_PAGE = 40  # the list reads at most 1,001 cases: narrow it with the filters


# --- The list ---------------------------------------------------------------------------------


@dataclass
class CasePage:
    """One page of the criminal case list, found without counting every case: the list reads
    the cases up to the end of the page and one more, so ``count`` is exact when ``more`` is
    false and a lower bound ("more than") when it is true."""

    object_list: list
    number: int
    count: int
    more: bool

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.more

    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    def previous_page_number(self) -> int:
        return self.number - 1

    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def pages(self) -> int:
        """Pages known so far: this one and, when there are more cases, the next."""
        return self.number + (1 if self.more else 0)


LIST_FIELDS = (
    "public_id",
    "reference",
    "stage",
    "stage_on",
    "opened_on",
    "reclassified",
    "below_minimum",
    "police_number",
    "prosecution_number",
    "court_number",
    *(
        f"{agency}__{name}"
        for agency in ("prosecution_office", "police_agency", "court")
        for name in ("name", "name_sq", "name_sr", "name_en")
    ),
)


def list_parts(
    user: User,
    *,
    stage: str = "",
    offence: str = "",
    office: str = "",
    year: int | None = None,
    reclassified: bool = False,
    below_minimum: bool = False,
) -> list:
    """The filtered parts of the user's scope, each newest first (an index scan each)."""
    office_id = None
    if office:
        office_id = Agency.objects.filter(code=office).values_list("pk", flat=True).first() or 0
    parts = []
    for part in policy.criminal_case_scope_parts(user):
        if stage in Stage.values:
            part = part.filter(stage=stage)
        if offence:
            part = part.filter(
                Exists(Charge.objects.filter(defendant__case=OuterRef("pk"), offence__key=offence))
            )
        if office_id is not None:
            part = part.filter(prosecution_office_id=office_id)
        if year:
            part = part.filter(opened_on__year=year)
        if reclassified:
            part = part.filter(reclassified=True)
        if below_minimum:
            part = part.filter(below_minimum=True)
        parts.append(part.order_by("-opened_on", "-pk"))
    return parts


def list_cases(
    user: User,
    *,
    stage: str = "",
    offence: str = "",
    office: str = "",
    year: int | None = None,
    reclassified: bool = False,
    below_minimum: bool = False,
    page=1,
    request=None,
) -> CasePage:
    """A page of the criminal cases ``user`` may see, filtered, newest first.

    The policy's scope is read as its disjoint parts (``policy.criminal_case_scope_parts``),
    each newest first through one index and only up to the end of the page and one more; the
    parts are merged here. So a page costs the same at 30 or 30,000 cases of an office, pages
    stop at ``MAX_PAGE`` (narrow the filters instead), and nothing counts the whole list."""
    number = page_number(page, last=MAX_PAGE)
    wanted = number * PAGE_SIZE + 1
    keys = []
    for part in list_parts(
        user,
        stage=stage,
        offence=offence,
        office=office,
        year=year,
        reclassified=reclassified,
        below_minimum=below_minimum,
    ):
        keys += part.values_list("opened_on", "pk")[:wanted]
    keys.sort(reverse=True)
    keys = keys[:wanted]
    found = len(keys)
    if found <= (number - 1) * PAGE_SIZE and number > 1:  # past the end: the last page
        number = max(1, -(-found // PAGE_SIZE))
    chosen = [pk for _on, pk in keys[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]]
    cases = list(
        CriminalCase.objects.filter(pk__in=chosen)
        .select_related("prosecution_office", "police_agency", "court")
        .only(*LIST_FIELDS)
        .order_by("-opened_on", "-pk")
    )
    more = found > number * PAGE_SIZE
    result = CasePage(
        object_list=cases,
        number=number,
        count=min(found, number * PAGE_SIZE),
        more=more,
    )
    if cases:
        audit.record_many(
            user,
            audit.Action.LIST,
            cases,
            purpose="criminal case list",
            request=request,
        )
    return result


def case_rows(page) -> list[dict]:
    return [
        {
            "public_id": str(case.public_id),
            "url": reverse("justice:detail", args=[case.public_id]),
            "reference": case.reference,
            "stage": case.stage,
            "stage_label": choice_label(case, "stage"),
            "stage_on": case.stage_on,
            "opened_on": case.opened_on,
            "police": str(case.police_agency) if case.police_agency_id else "",
            "office": str(case.prosecution_office) if case.prosecution_office_id else "",
            "court": str(case.court) if case.court_id else "",
            "numbers": [
                n for n in (case.police_number, case.prosecution_number, case.court_number) if n
            ],
            "reclassified": case.reclassified,
            "below_minimum": case.below_minimum,
        }
        for case in page
    ]


# --- One case ---------------------------------------------------------------------------------


def read_case(user: User, public_id, *, request=None, purpose: str = "") -> CaseView:
    """The case if ``user`` may see it (else 404), audited as read."""
    case = (
        policy.criminal_cases_visible_to(user)
        .select_related("police_agency", "prosecution_office", "court", "prosecutor")
        .filter(public_id=public_id)
        .first()
    )
    if case is None:
        raise Http404
    access = policy.criminal_case_access(user, case)
    if not access.can_view:
        raise Http404
    audit.record(
        user,
        audit.Action.READ,
        obj=case,
        field_groups=[] if access.injured_parties_only else ["investigation"],
        purpose=purpose,
        request=request,
    )
    return CaseView(case=case, access=access, user=user)


def witness_label(witness: Witness) -> str:
    return _("Witness %(pseudonym)s") % {"pseudonym": witness.pseudonym}


def _money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def _events(view: CaseView) -> list[dict]:
    access, events = view.access, view.events
    standing = {e.pk for e in services.effective_events(view.case, events)}
    return [
        {
            "id": str(e.public_id),
            "kind": e.kind,
            "label": enum_label(EventKind, e.kind),
            "occurred_on": e.occurred_on,
            "document": e.document,
            "agency": str(e.agency) if e.agency_id else "",
            "defendant": e.defendant.label if e.defendant_id else "",
            "standing": e.pk in standing,
            "corrects": e.corrects_id is not None,
            "withdrawn": e.withdrawn,
            "reason": e.reason if access.can_edit else "",
            "note": e.note if access.can_edit else "",
        }
        for e in events
    ]


def _defendants(view: CaseView, request) -> list[dict]:
    case, access = view.case, view.access
    defendants = list(case.defendants.select_related("person").order_by("pk"))
    charges = (
        Charge.objects.filter(defendant__case=case)
        .select_related("offence__criminal_code", "replaces__offence")
        .prefetch_related(Prefetch("victim_cases", queryset=Case.objects.only("reference")))
        .order_by("pk")
    )
    judgments = (
        Judgment.objects.filter(case=case)
        .prefetch_related("sentences")
        .order_by("decided_on", "pk")
    )
    if defendants and access.sees_defendants:
        audit.record_many(
            view.user,
            audit.Action.READ,
            [d.person for d in defendants],
            field_groups=["identity"],
            purpose="criminal case defendants",
            request=request,
        )
    rows = []
    for d in defendants:
        rows.append(
            {
                "id": str(d.public_id),
                "label": _("Defendant %(label)s") % {"label": d.label},
                "name": f"{d.person.given_name} {d.person.family_name}".strip()
                if access.sees_defendants
                else "",
                "person_reference": d.person.reference if access.sees_defendants else "",
                "status": d.status,
                "status_label": choice_label(d, "status"),
                "roles": d.roles,
                "detention": d.detention,
                "detention_label": choice_label(d, "detention"),
                "public_official": d.public_official,
                "charges": [
                    {
                        "id": c.pk,
                        "offence": c.offence.key,
                        "citation": c.offence.citation,
                        "title": c.offence.title,
                        "scope": c.offence.scope,
                        "unconfirmed": bool(c.offence.unconfirmed),
                        "stage": c.stage,
                        "stage_label": choice_label(c, "stage"),
                        "counts": c.counts,
                        "recorded_on": c.recorded_on,
                        "replaces": c.replaces_id,
                        "downgrades": c.downgrades,
                        "victims": [v.reference for v in c.victim_cases.all()],
                    }
                    for c in charges
                    if c.defendant_id == d.pk
                ],
                "judgments": [
                    {
                        "instance": j.instance,
                        "instance_label": choice_label(j, "instance"),
                        "outcome": j.outcome,
                        "outcome_label": choice_label(j, "outcome"),
                        "decided_on": j.decided_on,
                        "final": j.final,
                        "sentences": [
                            {
                                "kind": s.kind,
                                "kind_label": choice_label(s, "kind"),
                                "months": s.months,
                                "fine_eur": _money(s.fine_eur),
                                "below_minimum": s.below_minimum,
                                "minimum_months": s.minimum_months,
                            }
                            for s in j.sentences.all()
                        ],
                    }
                    for j in judgments
                    if j.defendant_id == d.pk
                ],
            }
        )
    return rows


def _injured_parties(view: CaseView) -> list[dict]:
    parties = view.parties
    return [
        {
            "id": str(p.public_id),
            "label": _("Injured party %(label)s") % {"label": p.label},
            "victim_case": p.victim_case.reference,
            "advocate": p.represented_by.display_name if p.represented_by_id else "",
            "claim_filed": p.claim_filed,
            "amount_claimed": _money(p.amount_claimed),
            "decision": p.decision,
            "decision_label": choice_label(p, "decision"),
            "amount_awarded": _money(p.amount_awarded),
            "amount_paid": _money(p.amount_paid),
            "decided_on": p.decided_on,
            "state_compensation": [
                {
                    "applied_on": c.applied_on,
                    "decision": c.decision,
                    "decision_label": choice_label(c, "decision"),
                    "amount_eur": _money(c.amount_eur),
                    "paid_on": c.paid_on,
                    "appeal_filed_on": c.appeal_filed_on,
                }
                for c in p.state_compensations.all()
            ],
            "residence_permits": [
                {
                    "ground": r.ground,
                    "ground_label": choice_label(r, "ground"),
                    "status": r.status,
                    "status_label": choice_label(r, "status"),
                    "decided_on": r.decided_on,
                    "expires_on": r.expires_on,
                }
                for r in p.residence_permits.all()
            ],
            "interviews": [
                {
                    "interviewed_on": i.interviewed_on,
                    "body": i.body,
                    "body_label": choice_label(i, "body"),
                    "video_recorded": i.video_recorded,
                }
                for i in p.interviews.all()
            ],
        }
        for p in parties
    ]


def _witnesses(view: CaseView) -> list[dict]:
    """Pseudonyms, kinds and orders; whether the viewer may resolve depends on the viewer
    alone (never on the seal), so the answer is the same whoever the witness is."""
    resolvable = policy.witnesses_resolvable_by(view.user).filter(case=view.case)
    may_resolve = set(resolvable.values_list("pk", flat=True))
    witnesses = view.case.witnesses.prefetch_related("orders").order_by("pk")
    return [
        {
            "id": str(w.public_id),
            "pseudonym": witness_label(w),
            "kind": w.kind,
            "kind_label": choice_label(w, "kind"),
            "added_on": w.added_on,
            "may_resolve": w.pk in may_resolve,
            "orders": [
                {
                    "measures": o.measures,
                    "measure_labels": [enum_label(Measure, m) for m in o.measures],
                    "judge": o.judge,
                    "legal_basis": o.legal_basis,
                    "ordered_on": o.ordered_on,
                    "until": o.until,
                    "status": o.status,
                    "status_label": choice_label(o, "status"),
                }
                for o in w.orders.all()
            ],
        }
        for w in witnesses
    ]


def _victims(view: CaseView) -> list[dict]:
    """Linked victim cases by reference; a prosecution office sees the victim's name only
    when the victim case shared the identity group with it."""
    from streha.justice.models import VictimCaseShare

    victim_cases = list(view.case.victim_cases.select_related("person").order_by("pk"))
    agency = view.user.agency_id
    shared: dict[int, set] = {}
    for share in VictimCaseShare.objects.filter(
        victim_case__in=victim_cases, office_id=agency, grant__revoked_at__isnull=True
    ):
        shared.setdefault(share.victim_case_id, set()).update(share.field_groups)
    identity_of = {}
    access_to = {v.pk: policy.case_access(view.user, v) for v in victim_cases}
    for v in victim_cases:
        groups = set(access_to[v.pk].field_groups) | shared.get(v.pk, set())
        groups &= set(policy.role_field_groups(view.user))
        identity_of[v.pk] = "identity" in groups
    shown = [v.person for v in victim_cases if identity_of[v.pk]]
    if shown:  # audited before any name is decrypted (streha/audit/read_context.py)
        audit.record_many(
            view.user,
            audit.Action.READ,
            shown,
            field_groups=["identity"],
            purpose="criminal case victims",
        )
    rows = []
    for v in victim_cases:
        name = ""
        if identity_of[v.pk]:
            name = f"{v.person.given_name} {v.person.family_name}".strip()
        rows.append(
            {
                "id": str(v.public_id),
                "reference": v.reference,
                "shared": sorted(shared.get(v.pk, set())),
                "name": name,
                "url": reverse("cases:detail", args=[v.public_id])
                if access_to[v.pk].can_view
                else "",
            }
        )
    return rows


def case_sheet(view: CaseView, request=None) -> dict:
    case, access = view.case, view.access
    sheet = {
        "id": str(case.public_id),
        "reference": case.reference,
        "stage": case.stage,
        "stage_label": choice_label(case, "stage"),
        "stage_on": case.stage_on,
        "opened_on": case.opened_on,
        "police": str(case.police_agency) if case.police_agency_id else "",
        "police_number": case.police_number,
        "prosecution_office": str(case.prosecution_office) if case.prosecution_office_id else "",
        "prosecution_number": case.prosecution_number,
        "court": str(case.court) if case.court_id else "",
        "court_number": case.court_number,
        "prosecutor": case.prosecutor.display_name if case.prosecutor_id else "",
        "reclassified": case.reclassified,
        "below_minimum": case.below_minimum,
        "injured_parties": _injured_parties(view),
    }
    if access.injured_parties_only:
        return sheet
    sheet |= {
        "summary": case.summary,
        "victim_cases": _victims(view),
        "events": _events(view),
        "defendants": _defendants(view, request),
        "confiscations": [
            {
                "stage": c.stage,
                "stage_label": choice_label(c, "stage"),
                "asset": c.asset,
                "asset_label": choice_label(c, "asset"),
                "value_eur": _money(c.value_eur),
                "decided_on": c.decided_on,
            }
            for c in case.confiscations.order_by("decided_on", "pk")
        ],
        "witnesses": _witnesses(view),
        "deadlines": [
            {
                "kind": d.kind,
                "label": choice_label(d, "kind"),
                "due_on": d.due_on,
            }
            for d in case.deadlines.filter(done_at__isnull=True).order_by("due_on", "pk")
        ],
    }
    return sheet


# --- Witnesses for the witness protection unit -------------------------------------------------


def resolvable_witnesses(user: User, page=1):
    witnesses = policy.witnesses_resolvable_by(user).select_related("case").order_by("-pk")
    return Paginator(witnesses, PAGE_SIZE).get_page(page)


# --- "My work" ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JusticeWork:
    overdue: list
    due_soon: list
    by_stage: list  # (stage label, stage value, count)


def my_work(user: User, *, limit: int = 50) -> JusticeWork:
    today = timezone.localdate()
    deadlines = policy.justice_deadlines_for(user).select_related("case").order_by("due_on", "pk")
    counts = dict(
        policy.criminal_cases_visible_to(user)
        .order_by()
        .values_list("stage")
        .annotate(n=Count("pk"))
    )
    return JusticeWork(
        overdue=list(deadlines.filter(due_on__lt=today)[:limit]),
        due_soon=list(
            deadlines.filter(due_on__gte=today, due_on__lte=today + timedelta(days=14))[:limit]
        ),
        by_stage=[(label, value, counts.get(value, 0)) for value, label in Stage.choices],
    )


def navigation_entries(user) -> list:
    entries = []
    if policy._does_justice_work(user) or policy.criminal_cases_visible_to(user).exists():
        entries.append((_("Criminal cases"), reverse("justice:list")))
    if policy.is_witness_protection_unit(user):
        entries.append((_("Protected witnesses"), reverse("justice:witnesses")))
    return entries


HOME_ITEMS = 5  # deadlines and events listed by name on the home page
# Up to this many criminal cases, an agency's latest events are read by case (``recent_events``).
SMALL_CASELOAD = 1000


def _short(day) -> str:
    """A date in the active language's one format."""
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def _stage_counts(user: User) -> dict[str, int]:
    """The criminal cases ``user`` may see, by stage: each disjoint part of the scope grouped
    through its own index, all in one query (an agency's cases are thousands, not millions)."""
    parts = [
        part.order_by().values_list("stage").annotate(n=Count("pk"))
        for part in policy.criminal_case_scope_parts(user)
    ]
    counts: dict[str, int] = {}
    for rows in read_together(*parts, shape="criminal cases by stage"):
        for stage, n in rows:
            counts[stage] = counts.get(stage, 0) + n
    return counts


def recent_events(user: User, *, limit: int = HOME_ITEMS) -> list[tuple[str, str]]:
    """The latest events of the criminal cases of the user's agency, as (text, case page url)
    links. Only the kind, date and case reference are read: nothing protected is opened, and
    a victim advocate (who sees only the injured-party parts) gets none."""
    if not policy._does_justice_work(user):
        return []
    agency = user.agency_id
    cases = CriminalCase.objects.filter(
        Q(police_agency_id=agency) | Q(prosecution_office_id=agency) | Q(court_id=agency)
    )
    # Two plans, chosen by the agency's caseload (read up to the threshold, by index): a few
    # cases give their events through the case index, a handful to sort; many give them
    # newest first through ``proceeding_recorded``, each probed against the agency's cases,
    # stopping at the limit after about limit x (all events / the agency's) rows. Walking the
    # events for an agency with few cases would read nearly all of them; sorting the events
    # of one holding most cases read all of theirs (100 ms on PostgreSQL, 240 ms on SQLite at
    # 1,000,000 persons; SQLite keeps no statistics to choose between the two itself).
    few = list(cases.order_by().values_list("pk", flat=True)[: SMALL_CASELOAD + 1])
    if len(few) <= SMALL_CASELOAD:
        events = ProceedingEvent.objects.filter(case_id__in=few)
    else:
        events = ProceedingEvent.objects.filter(Exists(cases.filter(pk=OuterRef("case_id"))))
    events = events.order_by("-recorded_at", "-pk").values_list(
        "kind", "occurred_on", "case__reference", "case__public_id"
    )[:limit]
    return [
        (
            f"{reference} · {enum_label(EventKind, kind)} · {_short(occurred_on)}",
            reverse("justice:detail", args=[public_id]),
        )
        for kind, occurred_on, reference, public_id in events
    ]


def _deadline_links(deadlines) -> list[tuple[str, str]]:
    return [
        (
            f"{_short(d.due_on)} · {d.case.reference} · {enum_label(DeadlineKind, d.kind)}",
            reverse("justice:detail", args=[d.case.public_id]),
        )
        for d in deadlines.select_related("case").order_by("due_on", "pk")[:HOME_ITEMS]
    ]


def my_work_panels(user) -> list:
    """The justice part of the home page. A prosecution office's staff first see their
    deadlines (overdue and due in 14 days, the first ones by name); every justice role sees
    the criminal cases of its agency by stage, each figure linking to the list filtered to
    that stage, and the latest events of those cases (police: their unit's; the court
    liaison: their court's)."""
    from streha.web.selectors import Panel, bounded_count

    if not policy._does_justice_work(user):
        return []
    panels = []
    today = timezone.localdate()
    list_url = reverse("justice:list")
    if user.agency.kind == AgencyKind.PROSECUTION:
        deadlines = policy.justice_deadlines_for(user)
        overdue = deadlines.filter(due_on__lt=today)
        soon = deadlines.filter(due_on__gte=today, due_on__lte=today + timedelta(days=14))
        work_url = reverse("justice:my_work")
        panels.append(
            Panel(
                title=_("Deadlines of the proceedings"),
                figures=[
                    (_("Overdue deadlines"), bounded_count(overdue), work_url),
                    (_("Deadlines in the next 14 days"), bounded_count(soon), work_url),
                ],
                links=_deadline_links(overdue) + _deadline_links(soon),
            )
        )
    counts = _stage_counts(user)
    panels.append(
        Panel(
            title=_("Criminal cases by stage"),
            figures=[
                (label, counts[value], f"{list_url}?stage={value}")
                for value, label in Stage.choices
                if counts.get(value)
            ],
            note="" if counts else _("No criminal cases yet."),
            links=[(_("Criminal cases"), list_url)],
        )
    )
    events = recent_events(user)
    if events:
        panels.append(Panel(title=_("Recent events in criminal cases"), links=events))
    return panels


def deadline_of(user: User, deadline_id) -> Deadline | None:
    if not policy._does_justice_work(user):
        return None
    return (
        Deadline.objects.filter(agency_id=user.agency_id, pk=deadline_id)
        .select_related("case")
        .first()
    )


# --- Statistics (counts only) -------------------------------------------------------------------

FUNNEL = list(services.FUNNEL_EVENTS)


def statistics_scope(user: User):
    """All criminal cases for the national coordinator's analysts, else their agency's."""
    if not policy.can_see_justice_statistics(user):
        return CriminalCase.objects.none()
    agency = user.agency
    if agency is not None and agency.kind == AgencyKind.NATIONAL_COORDINATOR:
        return CriminalCase.objects.all()
    return CriminalCase.objects.filter(
        Q(police_agency_id=user.agency_id) | Q(prosecution_office_id=user.agency_id)
    )


def attrition_funnel(user: User, year: int) -> dict:
    """The period view of the attrition funnel for ``year``: cases with each event dated in the
    year (corrections applied: withdrawn and superseded events are not counted), persons
    convicted at first instance and finally, downgrades and sentences below the minimum, and
    protected witnesses by measure. Never a name. ``series_break`` flags a year in which a new
    criminal code came into force (Eurostat flag ``b``).

    Read from the figures the services keep (``FunnelFigure``: a few rows, whatever the number
    of cases), plus a count of the scope's cases not counted into them yet; exactly what
    ``recount_funnel`` counts from the events (``tests/test_funnel_figures.py``)."""
    if not policy.can_see_justice_statistics(user):
        return recount_funnel(CriminalCase.objects.none(), year)
    agency = user.agency
    if agency is None:
        return recount_funnel(statistics_scope(user), year)
    key = None if agency.kind == AgencyKind.NATIONAL_COORDINATOR else agency.pk
    figures = dict(FunnelFigure.objects.filter(agency_id=key, year=year).values_list("metric", "n"))
    uncounted = CriminalCase.objects.filter(figures__isnull=True)
    if uncounted.exists():
        extra = recount_funnel(statistics_scope(user).filter(pk__in=uncounted.values("pk")), year)
        for metric, n in _as_figures(extra).items():
            figures[metric] = figures.get(metric, 0) + n
    return _funnel_of(year, figures)


def _funnel_of(year: int, figures: dict[str, int]) -> dict:
    return {
        "year": year,
        "series_break": catalogue.is_series_break_year(year),
        "cases": {kind: figures.get(f"case:{kind}", 0) for kind in FUNNEL},
        "persons_convicted_first_instance": figures.get("convicted_first", 0),
        "persons_convicted_final": figures.get("convicted_final", 0),
        "cases_downgraded": figures.get("downgraded", 0),
        "sentences_below_minimum": figures.get("below_minimum", 0),
        "protection_orders_by_measure": {m: figures.get(f"order:{m}", 0) for m in Measure.values},
    }


def _as_figures(funnel: dict) -> dict[str, int]:
    """A funnel back into its figures by metric (the inverse of ``_funnel_of``)."""
    figures = {f"case:{kind}": n for kind, n in funnel["cases"].items()}
    figures |= {f"order:{m}": n for m, n in funnel["protection_orders_by_measure"].items()}
    figures |= {
        "convicted_first": funnel["persons_convicted_first_instance"],
        "convicted_final": funnel["persons_convicted_final"],
        "downgraded": funnel["cases_downgraded"],
        "below_minimum": funnel["sentences_below_minimum"],
    }
    return figures


def recount_funnel(cases, year: int) -> dict:
    """The attrition funnel of ``cases`` for ``year`` counted from the events, judgments and
    orders themselves: the definition the kept figures must equal (the test and
    ``streha rebuild_justice_figures --check`` compare them), and the count of cases not
    counted into the figures yet."""
    events = ProceedingEvent.objects.filter(case__in=cases, occurred_on__year=year)
    superseded = ProceedingEvent.objects.filter(corrects__isnull=False).values("corrects_id")
    standing = events.exclude(pk__in=superseded).exclude(withdrawn=True)
    by_kind = dict(
        standing.filter(kind__in=FUNNEL)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("case_id", distinct=True))
    )
    judgments = Judgment.objects.filter(case__in=cases, decided_on__year=year)
    convicted = [Outcome.CONVICTED, Outcome.PARTLY]
    first = judgments.filter(instance=Instance.FIRST, outcome__in=convicted)
    final = judgments.filter(final=True, outcome__in=convicted)
    orders = ProtectionOrder.objects.filter(witness__case__in=cases, ordered_on__year=year)
    measures: dict[str, int] = {}
    for order_measures in orders.values_list("measures", flat=True):
        for measure in set(order_measures):
            measures[measure] = measures.get(measure, 0) + 1
    return {
        "year": year,
        "series_break": catalogue.is_series_break_year(year),
        "cases": {kind: by_kind.get(kind, 0) for kind in FUNNEL},
        "persons_convicted_first_instance": first.values("defendant_id").distinct().count(),
        "persons_convicted_final": final.values("defendant_id").distinct().count(),
        "cases_downgraded": cases.filter(reclassified=True, opened_on__year=year).count(),
        "sentences_below_minimum": judgments.filter(sentences__below_minimum=True)
        .values("defendant_id")
        .distinct()
        .count(),
        "protection_orders_by_measure": {m: measures.get(m, 0) for m in Measure.values},
    }
