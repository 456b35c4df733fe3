"""The counting rules, written once: every published figure names its definition from here.

A definition says what is counted (the unit), which date places it in a year (the reference
date), which statuses are included and how the attributes are derived. The HTML tables, the API,
the files of ``streha report national`` and their notes all read these objects, so a rule changes
in one place. Rules common to every table:

- one person is counted once per table and year (by person record, or by duplicate cluster where
  ``streha.linkage`` linked several records as one person; several victim cases of the same
  person count once, identified taking precedence over presumed);
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
    "a year, by person record, or once per cluster where records are linked as duplicates. "
    "Age is at the reference date: under 18 is a child; with only the year of birth "
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
            "T06",
            _("Persons in the criminal justice system by stage, sex and citizenship"),
            _("persons"),
            _("criminal report, indictment, first-instance judgment, final judgment"),
            _(
                "Suspected: a defendant of a criminal report or special report dated in the year. "
                "Prosecuted: of an indictment filed in the year. Convicted: convicted or partly "
                "convicted by a first-instance judgment, or by a judgment that became final, in "
                "the year. Corrected and withdrawn events are not counted. The offence is the "
                "most serious of the person's current charges (a reclassified charge counts as "
                "the new one): trafficking in human beings (the core articles), related "
                "offences, or other. Each person counts once a row, by person record, or once "
                "per cluster where records are linked as duplicates of one person."
            ),
        ),
        Definition(
            "T07",
            _("Attrition: from identified victims to final convictions"),
            _("persons (victims), criminal cases"),
            _("identification decision, criminal case opened, report, indictment, judgment"),
            _(
                "Events in the year: victims identified in the year; victims in a criminal case "
                "opened in the year; criminal cases with a criminal report, an indictment, a "
                "first-instance conviction or a final conviction dated in the year. Cohort: the "
                "victims identified in the year, the criminal cases they are victims in, and "
                "which of those cases reached each step by today. Victims count once per "
                "person, or per cluster of linked duplicate records."
            ),
        ),
        Definition(
            "T08",
            _("Offences recorded by article and stage"),
            _("charges"),
            _("day the charge was recorded"),
            _(
                "Every charge recorded in the year, by the article of the criminal code it cites "
                "(the code is shown: articles were renumbered by the 2019 code, a break in "
                "series) and the stage of the proceedings: criminal report, indictment or "
                "judgment. Reclassified charges count at each stage they were recorded. Offences "
                "outside trafficking and its related offences are together under other."
            ),
        ),
        Definition(
            "T09",
            _("Judgments and sentences"),
            _("persons judged, once per instance"),
            _("day of the judgment"),
            _(
                "Each person judged in the year counts once at first instance and once among "
                "final judgments, by their latest judgment of the year at that instance (by "
                "person record, or per cluster of linked duplicates). The band is that of the "
                "longest imprisonment: under 12 months, 12 to under 60 months, 60 to 144 "
                "months, over 144 months; without imprisonment, a suspended sentence, else a "
                "fine only. Below the statutory minimum: a sentence under the minimum the "
                "catalogue prescribes for the charge."
            ),
        ),
        Definition(
            "T10",
            _("Reclassified charges: trafficking at the report, another article later"),
            _("charges"),
            _("day the new charge was recorded"),
            _(
                "Charges recorded in the year at the indictment or the judgment that replace a "
                "charge of trafficking in human beings (a core article) with an article outside "
                "the core, by the article before and after."
            ),
        ),
        Definition(
            "T11",
            _("Confiscation of assets"),
            _("criminal cases; euros"),
            _("day of the seizure or confiscation decision"),
            _(
                "Criminal cases with assets seized or confiscated by a decision of the year, by "
                "kind of asset, and the value in euros (rounded to the euro). A case with "
                "several kinds of asset is in several rows. An amount is hidden wherever its "
                "count is."
            ),
        ),
        Definition(
            "T12",
            _("Compensation of victims: court-ordered and state"),
            _("persons (victims); euros"),
            _("decision, application or payment"),
            _(
                "Court-ordered: property claims filed in criminal cases opened in the year, "
                "granted (fully or partly) and paid by a decision of the year. State "
                "compensation (Law No. 05/L-036): applications made, granted and paid in the "
                "year. Each victim counts once a row (by person record, or per cluster of "
                "linked duplicates). Euros: claimed, awarded or paid; applications have no "
                "amount until decided (–). An amount is hidden wherever its count is."
            ),
        ),
        Definition(
            "T13",
            _("Residence permits for victims"),
            _("persons (victims)"),
            _("day of the permit decision"),
            _(
                "Residence permit decisions of the year for foreign victims (Law No. 04/L-218), "
                "by ground and decision. Each victim counts once a row (by person record, or "
                "per cluster of linked duplicates)."
            ),
        ),
        Definition(
            "T14",
            _("Protected witnesses by measure"),
            _("witnesses"),
            _("day the protection order was made"),
            _(
                "Witnesses with a protection order made in the year, by measure and by the state "
                "of their latest order of the year. Counted by the witness record: the person "
                "behind a pseudonym stays sealed, so nothing here is linked to a person, a case "
                "or a place. Small cells are always hidden, even in the exact view."
            ),
        ),
        Definition(
            "T15",
            _("Recovery and reflection periods granted and ended"),
            _("persons"),
            _("start or end of the reflection period"),
            _(
                "Granted: the reflection period started in the year (recognition as a presumed "
                "victim). Ended: its last day fell in the year. Each person counts once a row, "
                "by person record, or once per cluster of records linked as duplicates."
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
