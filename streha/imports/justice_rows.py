"""The justice side of the HTCDS export: criminal cases, defendants, proceeding events,
charges and judgments as ``jus_*`` rows, one row per record, in the order the import reads them.

HTCDS v2.0 has no fields for proceedings, so these are Streha's extension fields, named like
the standard's (``jus_`` prefix, CamelCase), with the defendant's person under the standard's
``prs_*`` names. A row's ``jus_Record`` says what it is; every row carries the criminal case's
owning agency (``ext_Agency``) and reference (``jus_CaseReference``), the import's key.
Defendants are known by their label within the case, events, charges and judgments by their
position (1, 2, ...) within the case or the defendant, so a file read twice finds its records.
Witnesses are never written: their link to a person is sealed (``justice.WitnessSeal``).
"""

from decimal import Decimal

from streha.imports import htcds

RECORDS = ("CriminalCase", "Defendant", "Event", "Charge", "Judgment")

COLUMNS = (
    "jus_Record",
    "ext_Agency",
    "jus_CaseReference",
    # CriminalCase
    "jus_OpenedOn",
    "jus_PoliceAgency",
    "jus_PoliceNumber",
    "jus_ProsecutionOffice",
    "jus_ProsecutionNumber",
    "jus_Court",
    "jus_CourtNumber",
    "jus_Summary",
    "jus_VictimReferences",
    # Defendant (and the person behind it, under HTCDS person fields)
    "jus_Defendant",
    "jus_DefendantReference",
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_Gender",
    "prs_Citizenship",
    "prs_IdentityNumber",
    "per_RoleInProcess",
    "jus_Detention",
    "jus_PublicOfficial",
    "jus_DefendantStatus",
    # Event
    "jus_Number",
    "jus_EventKind",
    "jus_OccurredOn",
    "jus_Document",
    "jus_EventAgency",
    "jus_Corrects",
    "jus_Withdrawn",
    # Charge
    "jus_CriminalCode",
    "jus_Article",
    "jus_Paragraph",
    "jus_Counts",
    "jus_ChargeStage",
    "jus_Replaces",
    # Judgment
    "jus_Instance",
    "jus_Outcome",
    "jus_Final",
    "jus_Sentence",
    "jus_Months",
    "jus_FineEur",
)
# Columns that hold someone's identity, free text that may, or the numbers under which the
# police, prosecution and court files (which name people) can be found: empty in a
# pseudonymised file.
IDENTIFYING = (
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_IdentityNumber",
    "jus_Summary",
    "jus_PoliceNumber",
    "jus_ProsecutionNumber",
    "jus_CourtNumber",
    "jus_Document",
)


def _day(value) -> str:
    return value.isoformat() if value else ""


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _code(agency) -> str:
    return agency.code if agency is not None else ""


def _amount(value: Decimal | None) -> str:
    return f"{value:.2f}" if value is not None else ""


def owner_code(case) -> str:
    """The agency a criminal case is imported for: its police unit, else its prosecution."""
    return _code(case.police_agency or case.prosecution_office)


def rows_of(case, *, reference_of) -> list[dict[str, str]]:
    """Every record of one criminal case as rows (blank cells for other records' columns).
    ``reference_of(person)`` writes a person's reference (pseudonymised or not)."""
    base = {"ext_Agency": owner_code(case), "jus_CaseReference": case.reference}

    def row(record: str, **cells) -> dict[str, str]:
        return {name: "" for name in COLUMNS} | base | {"jus_Record": record} | cells

    victims = sorted(reference_of(v.person) for v in case.victim_cases.all())
    out = [
        row(
            "CriminalCase",
            jus_OpenedOn=_day(case.opened_on),
            jus_PoliceAgency=_code(case.police_agency),
            jus_PoliceNumber=case.police_number,
            jus_ProsecutionOffice=_code(case.prosecution_office),
            jus_ProsecutionNumber=case.prosecution_number,
            jus_Court=_code(case.court),
            jus_CourtNumber=case.court_number,
            jus_Summary=case.summary,
            jus_VictimReferences=";".join(victims),
        )
    ]
    defendants = list(case.defendants.select_related("person").order_by("pk"))
    for defendant in defendants:
        person = defendant.person
        out.append(
            row(
                "Defendant",
                jus_Defendant=defendant.label,
                jus_DefendantReference=reference_of(person),
                prs_FirstName=person.given_name,
                prs_SecondName=person.family_name,
                prs_Birthdate=_day(person.date_of_birth),
                prs_Gender=htcds._GENDER_NAMES.get(person.gender, ""),
                prs_Citizenship=person.citizenship,
                prs_IdentityNumber=person.personal_number,
                per_RoleInProcess=";".join(defendant.roles),
                jus_Detention=defendant.detention,
                jus_PublicOfficial=_flag(defendant.public_official),
                jus_DefendantStatus=defendant.status,
            )
        )
    events = list(case.events.select_related("agency", "defendant").order_by("recorded_at", "pk"))
    number = {event.pk: position for position, event in enumerate(events, start=1)}
    for position, event in enumerate(events, start=1):
        out.append(
            row(
                "Event",
                jus_Number=str(position),
                jus_EventKind=event.kind,
                jus_OccurredOn=_day(event.occurred_on),
                jus_Document=event.document,
                jus_EventAgency=_code(event.agency),
                jus_Defendant=event.defendant.label if event.defendant_id else "",
                jus_Corrects=str(number[event.corrects_id]) if event.corrects_id else "",
                jus_Withdrawn=_flag(event.withdrawn),
            )
        )
    for defendant in defendants:
        charges = list(
            defendant.charges.select_related("offence__criminal_code")
            .prefetch_related("victim_cases__person")
            .order_by("pk")
        )
        charge_number = {charge.pk: position for position, charge in enumerate(charges, start=1)}
        for position, charge in enumerate(charges, start=1):
            out.append(
                row(
                    "Charge",
                    jus_Defendant=defendant.label,
                    jus_Number=str(position),
                    jus_CriminalCode=charge.offence.criminal_code.code,
                    jus_Article=charge.offence.article,
                    jus_Paragraph=charge.offence.paragraph,
                    jus_Counts=str(charge.counts),
                    jus_ChargeStage=charge.stage,
                    jus_OccurredOn=_day(charge.recorded_on),
                    jus_Replaces=str(charge_number[charge.replaces_id])
                    if charge.replaces_id
                    else "",
                    jus_VictimReferences=";".join(
                        sorted(reference_of(v.person) for v in charge.victim_cases.all())
                    ),
                )
            )
    for defendant in defendants:
        judgments = defendant.judgments.prefetch_related("sentences").order_by("decided_on", "pk")
        for position, judgment in enumerate(judgments, start=1):
            sentence = next(iter(judgment.sentences.all()), None)
            out.append(
                row(
                    "Judgment",
                    jus_Defendant=defendant.label,
                    jus_Number=str(position),
                    jus_Instance=judgment.instance,
                    jus_Outcome=judgment.outcome,
                    jus_OccurredOn=_day(judgment.decided_on),
                    jus_Final=_flag(judgment.final),
                    jus_Document=judgment.document,
                    jus_Sentence=sentence.kind if sentence else "",
                    jus_Months=str(sentence.months) if sentence and sentence.months else "",
                    jus_FineEur=_amount(sentence.fine_eur) if sentence else "",
                )
            )
    return out
