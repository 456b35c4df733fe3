"""How cases are shown: labels, the next-step buttons, the exploitation profile in words and
the case list's rows. Reads nothing protected by itself and writes nothing; the selectors fetch
(and audit), this module turns what they fetched into what a page prints.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.cases import actions
from streha.cases.models import (
    Case,
    ControlMethod,
    ExploitationPlace,
    ExploitationType,
    RecruitmentMethod,
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


def linked_steps(user, case: Case, access) -> list[Step]:
    """The buttons of the other domains' steps ``user`` may take from the case."""
    return [
        Step(step.name, str(step.label), url=step.url(case))
        for step in actions.linked_steps(user, case, access)
    ]


def profile_summary(case: Case) -> list[tuple[str, str]]:
    """The exploitation profile as (label, text) rows in the active language; empty parts
    are left out."""

    def labels(values, choices) -> str:
        return ", ".join(enum_label(choices, value) for value in values)

    codes = set(case.recruitment_municipalities) | set(case.exploitation_municipalities)
    places = {m.code: str(m) for m in Municipality.objects.filter(code__in=codes)} if codes else {}
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
    ]
    if case.transnational is not None:
        rows.insert(2, (_("Transnational"), _("yes") if case.transnational else _("no")))
    return [(label, text) for label, text in rows if text]


@dataclass(frozen=True)
class CaseRow:
    url: str
    reference: str
    stage: str
    source: str
    first_contact_on: str
    agency: str
    needs_guardian: bool
    age_disputed: bool


def case_rows(cases) -> list[CaseRow]:
    """The case list's rows, ready to print (labels through ``choice_label``, dates in one
    format looked up once)."""
    date_format = get_format("SHORT_DATE_FORMAT")
    placeholder = "00000000-0000-0000-0000-000000000000"
    url = reverse("cases:detail", args=[placeholder])
    return [
        CaseRow(
            url=url.replace(placeholder, str(case.public_id)),
            reference=case.reference,
            stage=choice_label(case, "status"),
            source=choice_label(case, "source"),
            first_contact_on=dateformat.format(case.first_contact_on, date_format),
            agency=case.owner_agency.name,
            needs_guardian=case.needs_guardian,
            age_disputed=case.age_disputed,
        )
        for case in cases
    ]
