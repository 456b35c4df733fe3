"""How cases are shown: labels, the next-step buttons, the exploitation profile in words and
the case list's rows. Reads nothing protected by itself and writes nothing; the selectors fetch
(and audit), this module turns what they fetched into what a page prints.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.formats import get_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from streha.cases import actions
from streha.cases.models import (
    Case,
    ControlMethod,
    DecisionOrganisation,
    ExploitationPlace,
    ExploitationType,
    ForcedLabourIndustry,
    RecruitmentMethod,
    SexExploitationType,
)
from streha.places.catalogues import countries, languages
from streha.places.models import Municipality
from streha.web.labels import choice_label, enum_label

# The steps in words: read from the registry of case actions.
ACTION_LABELS = actions.LABELS

# The timeline in words. Kinds are the state machine's transitions and the other recorded facts.
EVENT_LABELS = {
    "open": gettext_lazy("Case opened"),
    "screen": gettext_lazy("Screening recorded"),
    "presume": gettext_lazy("Confirmed as a presumed victim"),
    "identify": gettext_lazy("Identified as a victim"),
    "not_identify": gettext_lazy("Not identified as a victim"),
    "assist": gettext_lazy("Assistance plan started"),
    "return_reintegrate": gettext_lazy("Return or reintegration started"),
    "close": gettext_lazy("Case closed"),
    "reopen": gettext_lazy("Case reopened"),
    "reflection_started": gettext_lazy("Recovery and reflection period started"),
    "service_added": gettext_lazy("Service added"),
    "service_status": gettext_lazy("Service status changed"),
    "referral_sent": gettext_lazy("Referral sent"),
    "referral_accepted": gettext_lazy("Referral accepted"),
    "referral_declined": gettext_lazy("Referral declined"),
    "referral_in_progress": gettext_lazy("Referral in progress"),
    "referral_completed": gettext_lazy("Referral completed"),
    "task_done": gettext_lazy("Task done"),
    "assigned": gettext_lazy("Case assigned"),
    "best_interests": gettext_lazy("Best-interests determination recorded"),
    "consent": gettext_lazy("Consent recorded"),
    "follow_up": gettext_lazy("Reintegration follow-up"),
    "guardian_appointed": gettext_lazy("Guardian appointed"),
    "note": gettext_lazy("Note added"),
    "update": gettext_lazy("Exploitation and attributes edited"),
    "document_added": gettext_lazy("Document added"),
    "document_withdrawn": gettext_lazy("Document withdrawn"),
    "demo": gettext_lazy("Demonstration data"),
}


@dataclass(frozen=True)
class Step:
    """A next step offered on the case page: an action of ``cases:act`` and its query."""

    action: str
    label: str
    query: str = ""
    url: str = ""  # a step of another domain, on its own page (``actions.LinkedStep``)


def next_steps(allowed: set[str]) -> list[Step]:
    """The buttons of the case page's "next step" card for the ``allowed`` actions, in the
    registry's order: the stage's own step first (after a screening, confirming it comes
    before screening again), housekeeping last. A step with variants (one screening per
    questionnaire) gives one button per variant."""
    steps: list[Step] = []
    variants: list[Step] = []
    for name, action in actions.ACTIONS.items():
        if name not in allowed or not action.button:
            continue
        if action.variants is None:
            steps.append(Step(name, str(action.label)))
        else:
            variants += [Step(name, label, query) for label, query in action.variants()]
    # Screening again comes after confirming the screening already made.
    position = 1 if "confirm" in allowed else 0
    steps[position:position] = variants
    return steps


def steps_html(steps: list[Step], case_url: str) -> SafeString:
    """The "next step" buttons as one string, built once (every value escaped) rather than a
    template node per attribute of each of the up to a dozen buttons every case page shows.
    The first of the case's own steps is the primary button; a step with a query (one per
    questionnaire) is numbered. The markup is the one the template printed
    (``tests/test_case_rows_html.py``)."""
    escape = conditional_escape
    links = []
    for counter, step in enumerate(steps, start=1):
        if step.url:
            links.append(
                f'<a class="button secondary" id="step-{escape(step.action)}" '
                f'href="{escape(step.url)}">{escape(step.label)}</a> '
            )
            continue
        kind = "button" if counter == 1 else "button secondary"
        number = f"-{counter}" if step.query else ""
        href = escape(f"{case_url}{step.action}/{step.query}")
        links.append(
            f'<a class="{kind}" id="step-{escape(step.action)}{number}" href="{href}" '
            f'hx-get="{href}" hx-target="#action-panel">{escape(step.label)}</a> '
        )
    return mark_safe("".join(links))  # noqa: S308 - every value above is escaped


def linked_steps(user, case: Case, access) -> list[Step]:
    """The buttons of the other domains' steps ``user`` may take from the case."""
    return [
        Step(step.name, str(step.label), url=step.url(case))
        for step in actions.linked_steps(user, case, access)
    ]


def profile_municipalities(case: Case):
    """The query of the municipalities the profile names (none if it names none)."""
    codes = set(case.recruitment_municipalities) | set(case.exploitation_municipalities)
    return Municipality.objects.filter(code__in=codes) if codes else Municipality.objects.none()


def profile_summary(case: Case, municipalities=None) -> list[tuple[str, str]]:
    """The exploitation profile as (label, text) rows in the active language; empty parts
    are left out. ``municipalities``: ``profile_municipalities(case)`` when already read."""

    def labels(values, choices) -> str:
        return ", ".join(enum_label(choices, value) for value in values)

    if municipalities is None:
        municipalities = profile_municipalities(case)
    places = {m.code: str(m) for m in municipalities}
    rows = [
        (_("Forms of exploitation"), labels(case.exploitation_types, ExploitationType)),
        (_("Places of exploitation"), labels(case.exploitation_places, ExploitationPlace)),
        (_("Countries of recruitment"), ", ".join(map(countries.name, case.recruitment_countries))),
        (_("Countries of transit"), ", ".join(map(countries.name, case.transit_countries))),
        (
            _("Countries of exploitation"),
            ", ".join(map(countries.name, case.exploitation_countries)),
        ),
        (
            _("Municipalities of recruitment"),
            ", ".join(places.get(c, c) for c in case.recruitment_municipalities),
        ),
        (
            _("Municipalities of exploitation"),
            ", ".join(places.get(c, c) for c in case.exploitation_municipalities),
        ),
        (_("Methods of recruitment"), labels(case.recruitment_methods, RecruitmentMethod)),
        (_("Methods of control"), labels(case.control_methods, ControlMethod)),
        (_("Languages spoken"), ", ".join(map(languages.name, case.languages))),
        (
            _("Forms of sexual exploitation"),
            labels(case.sex_exploitation_types, SexExploitationType),
        ),
        (
            _("Industries of forced labour"),
            labels(case.forced_labour_industries, ForcedLabourIndustry),
        ),
        (
            _("Date of the trafficking"),
            dateformat.format(case.trafficked_on, get_format("SHORT_DATE_FORMAT"))
            if case.trafficked_on
            else "",
        ),
        (
            _("Status decided by"),
            enum_label(DecisionOrganisation, case.decision_organisation)
            if case.decision_organisation
            else "",
        ),
        (
            _("Consented to the interview and the use of the data"),
            ""
            if case.interview_consent is None
            else _("yes")
            if case.interview_consent
            else _("no"),
        ),
    ]
    if case.transnational is not None:
        rows.insert(2, (_("Transnational"), _("yes") if case.transnational else _("no")))
    return [(label, text) for label, text in rows if text]


@dataclass(frozen=True)
class CaseRow:
    url: str
    reference: str
    person: str  # empty unless the user may see the person's identity group
    stage: str
    source: str
    first_contact_on: str
    agency: str
    assignee: str
    due_on: str
    overdue_days: int  # 0: not overdue
    due_text: str
    flags: list  # (text, strong) pairs


def due_words(due_on, today) -> tuple[int, str]:
    """(days overdue, the due date in words): "due today", "in 3 days", "5 days overdue",
    "2 years overdue", so that years-old work never looks like today's."""
    if due_on is None:
        return 0, ""
    days = (today - due_on).days
    if days == 0:
        return 0, _("due today")
    if days < 0:
        return 0, ngettext("due in %(n)d day", "due in %(n)d days", -days) % {"n": -days}
    if days >= 365:
        years = days // 365
        return days, ngettext("%(n)d year overdue", "%(n)d years overdue", years) % {"n": years}
    if days >= 60:
        months = days // 30
        return days, ngettext("%(n)d month overdue", "%(n)d months overdue", months) % {"n": months}
    return days, ngettext("%(n)d day overdue", "%(n)d days overdue", days) % {"n": days}


def case_flags(case: Case, details, today) -> list[tuple[str, bool]]:
    """What a case list row flags, (text, strong): the facts that ask for action first.

    - a child without a guardian (strong) or a child; a disputed age;
    - a recovery and reflection period ending within a week (strong) or over while the case
      is still at the presumed-victim stage (strong);
    - an overdue task of the user's agency (strong);
    - urgent shelter or medical care asked for on an open case;
    - a person reached through break-glass (the access is reviewed)."""
    from streha.cases.models import Status
    from streha.cases.selectors import REFLECTION_WARNING_DAYS

    flags: list[tuple[str, bool]] = []
    if case.is_child:
        if case.guardian_appointed_on is None:
            flags.append((_("Child without guardian"), True))
        else:
            flags.append((_("Child"), False))
    if case.age_disputed:
        flags.append((_("Age disputed"), False))
    ends = case.reflection_ends_on
    if ends is not None and case.status == Status.PRESUMED_VICTIM:
        if ends < today:
            flags.append((_("Reflection period over"), True))
        elif (ends - today).days <= REFLECTION_WARNING_DAYS:
            flags.append((_("Reflection period ending"), True))
    if details is not None and details.next_due is not None and details.next_due < today:
        flags.append((_("Overdue task"), True))
    if case.status != Status.CLOSED:
        if case.needs_urgent_shelter:
            flags.append((_("Urgent shelter"), False))
        if case.needs_urgent_medical:
            flags.append((_("Urgent medical care"), False))
    if details is not None and details.break_glass:
        flags.append((_("Break-glass"), True))
    return flags


def case_rows(cases, details: dict | None = None, today=None) -> list[CaseRow]:
    """The case list's rows, ready to print (labels through ``choice_label``, dates in one
    format looked up once). ``details`` (``selectors.case_list_details``) adds the person,
    the next due task and the break-glass flag."""
    date_format = get_format("SHORT_DATE_FORMAT")
    placeholder = "00000000-0000-0000-0000-000000000000"
    url = reverse("cases:detail", args=[placeholder])
    today = today or timezone.localdate()
    details = details or {}
    dates: dict = {}  # a page's cases share few dates and agencies: each formatted once

    def short(day) -> str:
        text = dates.get(day)
        if text is None:
            text = dates[day] = dateformat.format(day, date_format)
        return text

    agencies: dict = {}
    rows = []
    for case in cases:
        agency = agencies.get(case.owner_agency_id)
        if agency is None:
            agency = agencies[case.owner_agency_id] = str(case.owner_agency)
        extra = details.get(case.pk)
        next_due = extra.next_due if extra else None
        overdue_days, due_text = due_words(next_due, today)
        assignee = case.assigned_to.display_name if case.assigned_to_id else ""
        rows.append(
            CaseRow(
                url=url.replace(placeholder, str(case.public_id)),
                reference=case.reference,
                person=extra.person_name if extra else "",
                stage=choice_label(case, "status"),
                source=choice_label(case, "source"),
                first_contact_on=short(case.first_contact_on),
                agency=agency,
                assignee=assignee,
                due_on=short(next_due) if next_due else "",
                overdue_days=overdue_days,
                due_text=due_text,
                flags=case_flags(case, extra, today),
            )
        )
    return rows


def _flags_html(flags) -> str:
    if not flags:
        return "—"
    return " ".join(
        f'<strong class="flag">{conditional_escape(text)}</strong>'
        if strong
        else f'<span class="badge">{conditional_escape(text)}</span>'
        for text, strong in flags
    )


def _due_html(row: CaseRow) -> str:
    if not row.due_on:
        return "—"
    text = conditional_escape(row.due_text)
    if row.overdue_days:
        text = f'<strong class="flag overdue">{text}</strong>'
    return f'{text} <small class="muted">{conditional_escape(row.due_on)}</small>'


def case_rows_html(rows: list[CaseRow]) -> SafeString:
    """The case list's ``<tr>`` rows as one string, each row built once with every value
    escaped, rather than a template node per cell: 25 rows of nine cells were most of the
    list's rendering, on every case worker's hot path. The markup is the one the row template
    printed (``tests/test_case_rows_html.py`` compares them)."""
    escape = conditional_escape
    return mark_safe(  # noqa: S308 - every value below goes through conditional_escape
        "".join(
            "\n  <tr>\n"
            f'    <td><a href="{escape(row.url)}">{escape(row.reference)}</a></td>\n'
            f'    <td class="person">{escape(row.person) if row.person else "—"}</td>\n'
            f"    <td>{escape(row.stage)}</td>\n"
            f"    <td>{escape(row.source)}</td>\n"
            f"    <td>{escape(row.first_contact_on)}</td>\n"
            f"    <td>{escape(row.agency)}</td>\n"
            f"    <td>{escape(row.assignee) if row.assignee else '—'}</td>\n"
            f'    <td class="due">{_due_html(row)}</td>\n'
            f'    <td class="flags">{_flags_html(row.flags)}</td>\n'
            "  </tr>"
            for row in rows
        )
    )


@dataclass(frozen=True)
class TaskRow:
    task: object
    person: str  # empty unless the user may see the person's identity group
    overdue_days: int
    due_text: str
    long_overdue: bool  # a month or more: set apart from today's work


LONG_OVERDUE_DAYS = 30


def task_rows(tasks, names: dict, today=None) -> list[TaskRow]:
    """The task list's rows: the task, its case's person (when named), the days overdue."""
    today = today or timezone.localdate()
    rows = []
    for task in tasks:
        overdue_days, due_text = due_words(task.due_on, today)
        rows.append(
            TaskRow(
                task=task,
                person=names.get(task.case.person_id, ""),
                overdue_days=overdue_days,
                due_text=due_text,
                long_overdue=overdue_days >= LONG_OVERDUE_DAYS,
            )
        )
    return rows


def task_rows_html(rows: list[TaskRow], csrf_input: str) -> SafeString:
    """The task list's ``<tr>`` rows as one string, each row built once with every value
    escaped: "my work" shows up to 100 tasks, and a template node per cell (three URLs, a
    form with its CSRF input, a translated label per row) was most of the page's CPU. The
    markup is the one the row template printed (``tests/test_case_rows_html.py`` compares
    them). ``csrf_input`` is the request's hidden CSRF input (``csrf_input(request)``), the
    same one ``{% csrf_token %}`` printed in every row."""
    escape = conditional_escape
    date_format = get_format("SHORT_DATE_FORMAT")
    placeholder = "00000000-0000-0000-0000-000000000000"
    detail_url = escape(reverse("cases:detail", args=[placeholder]))
    done_url = escape(reverse("cases:task_done", args=[987654321]))
    inbox_url = escape(reverse("cases:inbox"))
    done = escape(_("Done"))
    long_overdue = ' class="overdue-long"'
    dates: dict = {}
    parts = []
    for row in rows:
        task = row.task
        day = task.due_on
        due_on = dates.get(day)
        if due_on is None:
            due_on = dates[day] = escape(dateformat.format(day, date_format) if day else "")
        due_text = escape(row.due_text)
        if row.overdue_days:
            due_text = f'<strong class="flag overdue">{due_text}</strong>'
        kind = escape(choice_label(task, "kind"))
        reference = escape(task.case.reference)
        if task.kind == "referral_answer":
            case_link = f'<a href="{inbox_url}">{reference}</a>'
        else:
            url = detail_url.replace(placeholder, str(task.case.public_id))
            case_link = f'<a href="{url}">{reference}</a>'
        done_label = _("Done: %(task)s, %(case)s") % {"task": kind, "case": reference}
        action = done_url.replace("987654321", str(task.pk))
        parts.append(
            f"\n  <tr{long_overdue if row.long_overdue else ''}>\n"
            f'    <td>{due_text} <small class="muted">{due_on}</small></td>\n'
            f"    <td>{kind}</td>\n"
            f"    <td>{case_link}</td>\n"
            f'    <td class="person">{escape(row.person) if row.person else "—"}</td>\n'
            f'    <td><form method="post" action="{action}" class="inline">{csrf_input}'
            f'<button class="secondary" aria-label="{done_label}">{done}</button></form></td>\n'
            "  </tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


@dataclass(frozen=True)
class ReferralRow:
    referral: object
    case_reference: str  # empty until the receiving agency may learn the case
    person: str  # empty unless the user may see the person's identity group
    answer_late_days: int  # days past the answer deadline of a referral still unanswered
    answer_text: str


def referral_rows(user, referrals, names: dict, today=None) -> list[ReferralRow]:
    """The referral inbox's rows: labelled by case and person where the reader may learn
    them (``policy.referral_reveals_case``), the answer deadline in words when it is past."""
    from streha.access import policy
    from streha.cases.models import ReferralStatus

    today = today or timezone.localdate()
    rows = []
    for referral in referrals:
        reveals = policy.referral_reveals_case(user, referral)
        late, text = 0, ""
        if referral.status == ReferralStatus.SENT:
            late, text = due_words(referral.answer_due_on, today)
        rows.append(
            ReferralRow(
                referral=referral,
                case_reference=referral.case.reference if reveals else "",
                person=names.get(referral.case.person_id, "") if reveals else "",
                answer_late_days=late,
                answer_text=text,
            )
        )
    return rows
