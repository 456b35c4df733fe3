"""The counting rules, written once: every published figure names its definition from here.

A definition says what is counted (the unit), which date places it in a year (the reference
date), which statuses are included and how the attributes are derived. The HTML tables, the API,
the files of ``streha report national`` and their notes all read these objects, so a rule changes
in one place. Rules common to every table:

- one person is counted once per table and year (by person record; several victim cases of the
  same person count once, identified taking precedence over presumed);
- unknown is a category of its own and is never folded into 0 or into another category;
- attributes with several values (forms of exploitation) count a person once in each value, so
  those rows do not add up to the total of persons, which is given apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Definition:
    code: str
    title: Promise
    unit: Promise
    reference_date: Promise
    rule: Promise


REGISTERED_VICTIMS_RULE = _(
    "A person counts as an identified victim in the year of the formal identification decision, "
    "and as a presumed victim in the year they were recognised as a presumed victim if they were "
    "not identified in that year. Registered victims are both together. Each person counts once "
    "a year. Age is at the reference date: under 18 is a child; with only the year of birth "
    "known, age is the reference year minus the year of birth."
)

DEFINITIONS = {
    definition.code: definition
    for definition in (
        Definition(
            "T01",
            _("Registered victims by status, sex and age"),
            _("persons"),
            _("identification decision, or recognition as a presumed victim"),
            REGISTERED_VICTIMS_RULE,
        ),
        Definition(
            "T02",
            _("Registered victims by citizenship and sex"),
            _("persons"),
            _("identification decision, or recognition as a presumed victim"),
            _(
                "Registered victims as in table 1. Citizenship group: the reporting country, "
                "another EU-27 member state, a country outside the EU, or unknown."
            ),
        ),
        Definition(
            "T03",
            _("Registered victims by form of exploitation, sex and age"),
            _("persons"),
            _("identification decision, or recognition as a presumed victim"),
            _(
                "Registered victims as in table 1. A victim exploited in several forms counts once "
                "in each form, so the forms do not add up to the total of persons, given apart. "
                "Labour exploitation includes domestic servitude; other forms are begging, "
                "criminal activities, forced marriage, organ removal and others."
            ),
        ),
        Definition(
            "T04",
            _("Registered victims by country of citizenship: women, men, girls and boys"),
            _("persons"),
            _("identification decision, or recognition as a presumed victim"),
            _(
                "Registered victims as in table 1, by country of citizenship, in the groups of "
                "UNODC's Global Report: women and men (18 or older), girls and boys (under 18), "
                "and unknown sex or age."
            ),
        ),
        Definition(
            "T05",
            _("Internal and transnational trafficking by form of exploitation and sex"),
            _("persons"),
            _("identification decision, or recognition as a presumed victim"),
            _(
                "Registered victims as in table 1. Transnational: the person crossed a border "
                "between recruitment and exploitation; internal: they did not; unknown when not "
                "recorded. A person with both kinds of victim case counts as transnational."
            ),
        ),
        Definition(
            "T15",
            _("Recovery and reflection periods granted and ended"),
            _("persons"),
            _("start or end of the reflection period"),
            _(
                "Granted: the reflection period started in the year (recognition as a presumed "
                "victim). Ended: its last day fell in the year. Each person counts once a row."
            ),
        ),
        Definition(
            "T16",
            _("Registered victims per 100,000 inhabitants (SDG 16.2.2)"),
            _("persons per 100,000 inhabitants"),
            _("identification decision, or recognition as a presumed victim"),
            _(
                "Registered victims as in table 1 divided by the resident population of the "
                "year (kept as data, with its source), times 100,000, one decimal. Not published "
                "when the count itself is suppressed."
            ),
        ),
        Definition(
            "TIP1",
            _("Tips received by category and outcome"),
            _("tips"),
            _("day the tip was received"),
            _(
                "Every tip received in the year (web form and phone), by the category the hotline "
                "gave it and what became of it: a victim case, a police report, closed without "
                "either, or still open."
            ),
        ),
        Definition(
            "TIP2",
            _("Tips received by municipality and channel"),
            _("tips"),
            _("day the tip was received"),
            _(
                "Every tip received in the year by the municipality it concerns (as the reporter "
                "gave it; unknown when not given) and by channel."
            ),
        ),
    )
}

SUPPRESSION_RULE = _(
    "Counts from 1 to %(limit)s are shown as “c” (confidential), and so are further cells where "
    "they could otherwise be worked out from the totals. 0 is a count and is shown."
)
