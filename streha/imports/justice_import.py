"""The justice profile of the import: the ``jus_*`` rows the HTCDS export writes (criminal
cases, defendants, proceeding events, charges, judgments), read back.

The rows of one criminal case (same ``ext_Agency`` and ``jus_CaseReference``, one after the
other) are checked together and written together, in one transaction: a case with a broken
row is not imported at all, and the report names the broken row, its column and why. The
checks are the justice services' own (``streha.justice.services``): the procedure's order of
events (``NEXT_EVENTS``, ``derive_stage``), no date in the future or before the case was
opened, a conviction needs a sentence and only a conviction carries one, months for prison,
an amount for a fine, charges only for victims linked to the case, reclassifications of the
same defendant's charges, and the derived stage and flags recomputed by the services after
the write. They are checked here rather than by calling the services because those act for
a user of the case's office (policy checks, deadlines assigned to them), which an import of
another system's history has not.

Idempotent on (``ext_Agency``, ``jus_CaseReference``): a case met again is matched, its
defendants by label and its events, charges and judgments by position; records already there
are left as they are (proceedings are corrected by new events, never changed) and only new
ones are added. Every record written is audited, one event per record, naming the import job.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from streha.accounts.models import Agency, AgencyKind
from streha.audit import services as audit
from streha.cases.models import Case
from streha.imports import htcds, justice_rows
from streha.imports.reader import FileRefused, Row, read_rows
from streha.justice import services as justice
from streha.justice.models import (
    Charge,
    ChargeStage,
    CriminalCase,
    Defendant,
    DefendantStatus,
    Detention,
    EventKind,
    Instance,
    Judgment,
    Offence,
    Outcome,
    ProceedingEvent,
    RoleInProcess,
    Sentence,
    SentenceKind,
)
from streha.people.models import Person
from streha.people.services import groups_of


def _unknown() -> str:
    return _("Unknown code; use the HTCDS value names.")


@dataclass
class Group:
    """The rows of one criminal case, parsed; ``errors`` by (line, column, reason)."""

    agency_code: str
    reference: str
    rows: list = field(default_factory=list)  # (line, kind, values)
    errors: list = field(default_factory=list)


def read_header(cells: list[str]):
    index, unknown, duplicated = {}, [], []
    for position, raw in enumerate(cells):
        name = raw.strip()
        if not name:
            continue
        if name in index:
            duplicated.append(name)
        elif name in justice_rows.COLUMNS:
            index[name] = position
        else:
            unknown.append(name[:60])
    missing = [n for n in ("jus_Record", "ext_Agency", "jus_CaseReference") if n not in index]
    return index, unknown, duplicated, missing


class JusticeImporter:
    """Reads, checks and (unless dry) writes the justice rows of one file."""

    def __init__(self, actor, agency: Agency, report, *, may_import, job=None):
        self.actor = actor
        self.agency = agency
        self.report = report
        self.may_import = may_import
        self.job = job
        self.agencies: dict[str, Agency | None] = {}
        self.offences: dict[tuple, Offence | None] = {}

    # --- lookups (cached: one query per distinct code) ---

    def _agency(self, code: str) -> Agency | None:
        if code not in self.agencies:
            self.agencies[code] = Agency.objects.filter(code=code, is_active=True).first()
        return self.agencies[code]

    def _offence(self, code: str, article: str, paragraph: str) -> Offence | None:
        key = (code, article, paragraph)
        if key not in self.offences:
            self.offences[key] = (
                Offence.objects.select_related("criminal_code")
                .filter(criminal_code__code=code, article=article, paragraph=paragraph)
                .first()
            )
        return self.offences[key]

    # --- the walk ---

    def walk(self, content: bytes, file_name: str, *, write: bool, ctx=None, tick=None) -> None:
        """``tick(rows)``, when given, is called after each row read (a dry-run job's
        progress and cancel)."""
        report = self.report
        start_line = ctx.checkpoint.get("line", 0) if (ctx and write) else 0
        if write and ctx and ctx.checkpoint.get("report"):
            for name, value in ctx.checkpoint["report"].items():
                setattr(report, name, value)
        index = None
        group: Group | None = None
        last_line = 0
        try:
            for row in read_rows(content, file_name):
                if index is None:
                    index, unknown, duplicated, missing = read_header(row.cells)
                    report.unknown_columns = unknown
                    if missing or duplicated or row.problems:
                        names = ", ".join(missing or duplicated)
                        report.file_error = (
                            _("Required columns are missing: %(names)s.") % {"names": names}
                            if missing
                            else _("Columns appear twice: %(names)s.") % {"names": names}
                            if duplicated
                            else _("The header line cannot be read.")
                        )
                        return
                    continue
                if not any(row.cells) and not row.problems:
                    continue
                if row.line <= start_line:
                    continue
                values = self._values(row, index)
                key = (values.get("ext_Agency", ""), values.get("jus_CaseReference", ""))
                if group is not None and (group.agency_code, group.reference) != key:
                    self._flush(group, write, ctx, last_line)
                    group = None
                if group is None:
                    group = Group(*key)
                report.rows += 1
                last_line = row.line
                if tick is not None:
                    tick(report.rows)
                group.rows.append((row.line, values.get("jus_Record", ""), values, row))
            if index is None and not report.file_error:
                report.file_error = _("The file is empty.")
            if group is not None:
                self._flush(group, write, ctx, last_line)
        except FileRefused as exc:
            report.file_error = str(exc)

    @staticmethod
    def _values(row: Row, index: dict) -> dict:
        return {
            name: row.cells[position] if position < len(row.cells) else ""
            for name, position in index.items()
        }

    def _flush(self, group: Group, write: bool, ctx, last_line: int) -> None:
        if ctx is not None and write:
            ctx.raise_if_cancelled()
        with transaction.atomic():
            plan = self._check(group)
            if group.errors:
                self._reject(group)
            elif write:
                self._write(plan)
            else:
                self._count(plan)
            if ctx is not None and write:
                ctx.progress(
                    self.report.rows, checkpoint={"line": last_line, "report": self._saved()}
                )

    def _saved(self) -> dict:
        names = ("created", "updated", "unchanged", "rejected", "rows", "errors")
        return {name: getattr(self.report, name) for name in names}

    def _reject(self, group: Group) -> None:
        report = self.report
        report.rejected += len(group.rows)
        broken = {line for line, _c, _r in group.errors}
        for line, column, reason in group.errors:
            report.reject(line, column, str(reason))
        first = group.rows[0][0]
        if first not in broken:
            report.reject(
                first,
                "jus_CaseReference",
                _("Not imported: another row of this criminal case was rejected."),
            )

    # --- checking a case's rows ---

    def _check(self, group: Group) -> dict:
        errors = group.errors

        def err(line, column, reason):
            errors.append((line, column, reason))

        for line, _kind, _values, row in group.rows:
            for position, reason in row.problems:
                err(line, str(position + 1), reason)
        first_line = group.rows[0][0]
        agency = self._agency(group.agency_code)
        if agency is None or not self.may_import(self.actor, agency):
            err(first_line, "ext_Agency", _("Unknown agency, or one you may not import for."))
            return {}
        reference = group.reference
        if not reference or len(reference) > 32:
            err(first_line, "jus_CaseReference", _("The reference is longer than 32 characters."))
            return {}
        existing = (
            CriminalCase.objects.filter(reference=reference)
            .select_related("police_agency", "prosecution_office")
            .first()
        )
        if existing is not None and justice_rows.owner_code(existing) != agency.code:
            err(
                first_line,
                "jus_CaseReference",
                _("This reference is another agency's criminal case."),
            )
            return {}
        plan = {
            "agency": agency,
            "reference": reference,
            "existing": existing,
            "case": None,
            "defendants": [],
            "events": [],
            "charges": [],
            "judgments": [],
        }
        kinds = [kind for _l, kind, _v, _r in group.rows]
        if kinds[0] != "CriminalCase" or kinds.count("CriminalCase") != 1:
            err(
                first_line,
                "jus_Record",
                _("Each criminal case starts with one CriminalCase row; its other rows follow."),
            )
            return plan
        order = {record: position for position, record in enumerate(justice_rows.RECORDS)}
        for (line, kind, _v, _r), previous in zip(group.rows[1:], kinds, strict=False):
            if kind not in order:
                err(line, "jus_Record", _unknown())
            elif previous in order and order[kind] < order[previous]:
                err(
                    line,
                    "jus_Record",
                    _(
                        "Rows of a case come in this order: case, defendants, events, "
                        "charges, judgments."
                    ),
                )
        if errors:
            return plan
        self._check_case(plan, group.rows[0], err)
        labels: dict[str, dict] = {}
        for line, kind, values, _row in group.rows[1:]:
            if kind == "Defendant":
                self._check_defendant(plan, line, values, labels, err)
            elif kind == "Event":
                self._check_event(plan, line, values, labels, err)
            elif kind == "Charge":
                self._check_charge(plan, line, values, labels, err)
            elif kind == "Judgment":
                self._check_judgment(plan, line, values, labels, err)
        return plan

    def _date(self, line, values, column, err, *, required=True) -> date | None:
        problems: list = []
        value = htcds._date(values.get(column, ""), column, problems)
        for column_name, reason in problems:
            err(line, column_name, reason)
        if value is None and required and not problems:
            err(line, column, _("Write the date as YYYY-MM-DD."))
        return value

    def _agency_of(self, line, values, column, kind, err) -> Agency | None:
        code = values.get(column, "")
        if not code:
            return None
        found = self._agency(code)
        if found is None or found.kind != kind:
            err(line, column, _("Unknown agency code, or an agency of another kind."))
        return found

    def _check_case(self, plan, first, err) -> None:
        line, _kind, values, _row = first
        opened_on = self._date(line, values, "jus_OpenedOn", err)
        fields = {
            "opened_on": opened_on,
            "police_agency": self._agency_of(
                line, values, "jus_PoliceAgency", AgencyKind.POLICE, err
            ),
            "police_number": values.get("jus_PoliceNumber", ""),
            "prosecution_office": self._agency_of(
                line, values, "jus_ProsecutionOffice", AgencyKind.PROSECUTION, err
            ),
            "prosecution_number": values.get("jus_ProsecutionNumber", ""),
            "court": self._agency_of(line, values, "jus_Court", AgencyKind.COURT, err),
            "court_number": values.get("jus_CourtNumber", ""),
            "summary": values.get("jus_Summary", ""),
        }
        for column in ("jus_PoliceNumber", "jus_ProsecutionNumber", "jus_CourtNumber"):
            if len(values.get(column, "")) > 60:
                err(line, column, _("The value is too long."))
        owner = fields["police_agency"] or fields["prosecution_office"]
        if owner is None or owner.code != plan["agency"].code:
            err(
                line,
                "ext_Agency",
                _("The owning agency is the case's police unit, or else its prosecution office."),
            )
        victims = htcds._split(values.get("jus_VictimReferences", ""), "htcds")
        found = list(Case.objects.filter(person__reference__in=victims).select_related("person"))
        if {c.person.reference for c in found} != set(victims):
            err(line, "jus_VictimReferences", _("No victim with this reference was imported."))
        plan["case"] = fields
        plan["victims"] = found

    def _check_defendant(self, plan, line, values, labels, err) -> None:
        label = values.get("jus_Defendant", "")
        if not label or len(label) > 40 or label in labels:
            err(line, "jus_Defendant", _("Give each defendant of the case its own label."))
            return
        roles = htcds._split(values.get("per_RoleInProcess", ""), "htcds")
        if any(role not in RoleInProcess.values for role in roles):
            err(line, "per_RoleInProcess", _unknown())
        detention = values.get("jus_Detention", "") or Detention.NONE
        if detention not in Detention.values:
            err(line, "jus_Detention", _unknown())
        status = values.get("jus_DefendantStatus", "") or DefendantStatus.SUSPECT
        if status not in DefendantStatus.values:
            err(line, "jus_DefendantStatus", _unknown())
        official = values.get("jus_PublicOfficial", "") or "false"
        if official not in ("true", "false"):
            err(line, "jus_PublicOfficial", _("Write true or false."))
        reference = values.get("jus_DefendantReference", "")
        if not reference or len(reference) > 32:
            err(line, "jus_DefendantReference", _("The source's reference is required."))
            return
        person = Person.objects.filter(reference=reference).first()
        new_person = None
        if person is None:
            fake = [values.get(name, "") for name in htcds.STORED]
            columns = htcds.Columns(
                {name: i for i, name in enumerate(htcds.STORED)}, [], [], [], []
            )
            fake[htcds.STORED.index("ext_Reference")] = reference
            try:
                parsed = htcds.parse_row(fake, columns)
            except htcds.RowErrors as exc:
                for column, reason in exc.errors:
                    if column in justice_rows.COLUMNS:
                        err(line, column, reason)
                return
            new_person = Person(owner_agency=plan["agency"], reference=reference, **parsed.person)
            try:  # the person model's own rules, as the registration service applies them
                new_person.full_clean(exclude=["reference", "owner_agency"], validate_unique=False)
            except ValidationError as exc:
                fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
                for name, messages in fields.items():
                    err(line, _column_of(name), " ".join(messages))
                return
        labels[label] = {"charges": 0, "judgments": 0, "charge_rows": {}}
        plan["defendants"].append(
            {
                "line": line,
                "label": label,
                "person": person,
                "new_person": new_person,
                "roles": roles,
                "detention": detention,
                "status": status,
                "public_official": official == "true",
            }
        )

    def _number(self, line, values, expected, err) -> bool:
        if values.get("jus_Number", "") != str(expected):
            err(line, "jus_Number", _("Number the records of a case 1, 2, 3 in order."))
            return False
        return True

    def _check_event(self, plan, line, values, labels, err) -> None:
        events = plan["events"]
        if not self._number(line, values, len(events) + 1, err):
            return
        kind = values.get("jus_EventKind", "")
        if kind not in EventKind.values:
            err(line, "jus_EventKind", _unknown())
            return
        occurred_on = self._date(line, values, "jus_OccurredOn", err)
        opened_on = plan["case"]["opened_on"]
        if occurred_on and opened_on and occurred_on < opened_on:
            err(line, "jus_OccurredOn", _("The date is before the case was opened."))
        label = values.get("jus_Defendant", "")
        if label and label not in labels:
            err(line, "jus_Defendant", _("Choose a defendant of this case."))
        corrects = values.get("jus_Corrects", "")
        withdrawn = values.get("jus_Withdrawn", "") == "true"
        if corrects:
            if not corrects.isdigit() or not 1 <= int(corrects) <= len(events):
                err(
                    line,
                    "jus_Corrects",
                    _("Choose an event of this case that is not a correction."),
                )
                return
            if events[int(corrects) - 1]["corrects"]:
                err(
                    line,
                    "jus_Corrects",
                    _("Choose an event of this case that is not a correction."),
                )
                return
        elif occurred_on is not None and not self._may_follow(events, kind):
            err(line, "jus_EventKind", _("This event cannot be recorded at the case's stage."))
        if len(values.get("jus_Document", "")) > 100:
            err(line, "jus_Document", _("The value is too long."))
        agency = None
        if values.get("jus_EventAgency"):
            agency = self._agency(values["jus_EventAgency"])
            if agency is None:
                err(
                    line, "jus_EventAgency", _("Unknown agency code, or an agency of another kind.")
                )
        events.append(
            {
                "line": line,
                "kind": kind,
                "occurred_on": occurred_on,
                "document": values.get("jus_Document", ""),
                "agency": agency,
                "defendant": label,
                "corrects": int(corrects) if corrects else None,
                "withdrawn": withdrawn,
            }
        )

    @staticmethod
    def _may_follow(events: list[dict], kind: str) -> bool:
        """The services' rule (``NEXT_EVENTS`` after the derived stage), except that the
        judgment services append "final" after a judgment without asking it."""
        standing = []
        latest = {e["corrects"]: e for e in events if e["corrects"]}
        for position, event in enumerate(events, start=1):
            if event["corrects"]:
                continue
            current = latest.get(position, event)
            if not current["withdrawn"] and current["occurred_on"] is not None:
                standing.append(
                    SimpleNamespace(
                        kind=current["kind"],
                        occurred_on=current["occurred_on"],
                        recorded_at=position,
                        pk=position,
                    )
                )
        stage, _on = justice.derive_stage(standing)
        if (
            kind == EventKind.FINAL
            and standing
            and standing[-1].kind in justice.JUDGMENT_EVENT.values()
        ):
            return True
        return kind in justice.NEXT_EVENTS[stage]

    def _check_charge(self, plan, line, values, labels, err) -> None:
        label = values.get("jus_Defendant", "")
        if label not in labels:
            err(line, "jus_Defendant", _("Choose a defendant of this case."))
            return
        mine = labels[label]
        if not self._number(line, values, mine["charges"] + 1, err):
            return
        mine["charges"] += 1
        offence = self._offence(
            values.get("jus_CriminalCode", ""),
            values.get("jus_Article", ""),
            values.get("jus_Paragraph", ""),
        )
        if offence is None:
            err(line, "jus_Article", _("No such offence in the catalogue."))
        stage = values.get("jus_ChargeStage", "")
        if stage not in ChargeStage.values:
            err(line, "jus_ChargeStage", _unknown())
        counts = values.get("jus_Counts", "") or "1"
        if not counts.isdigit() or int(counts) < 1 or int(counts) > 10000:
            err(line, "jus_Counts", _("At least one count."))
        recorded_on = self._date(line, values, "jus_OccurredOn", err)
        replaces = values.get("jus_Replaces", "")
        if replaces:
            taken = mine.setdefault("replaced", set())
            if not replaces.isdigit() or not 1 <= int(replaces) < mine["charges"]:
                err(line, "jus_Replaces", _("Choose a charge of the same defendant."))
            elif int(replaces) in taken:
                err(line, "jus_Replaces", _("This charge was already reclassified."))
            else:
                taken.add(int(replaces))
        victims = htcds._split(values.get("jus_VictimReferences", ""), "htcds")
        linked = {c.person.reference: c for c in plan.get("victims", [])}
        if any(reference not in linked for reference in victims):
            err(line, "jus_VictimReferences", _("Choose victim cases linked to this case."))
        plan["charges"].append(
            {
                "line": line,
                "label": label,
                "number": mine["charges"],
                "offence": offence,
                "stage": stage,
                "counts": int(counts) if counts.isdigit() else 1,
                "recorded_on": recorded_on,
                "replaces": int(replaces) if replaces.isdigit() else None,
                "victims": [c for c in plan.get("victims", []) if c.person.reference in victims],
            }
        )

    def _check_judgment(self, plan, line, values, labels, err) -> None:
        label = values.get("jus_Defendant", "")
        if label not in labels:
            err(line, "jus_Defendant", _("Choose a defendant of this case."))
            return
        mine = labels[label]
        if not self._number(line, values, mine["judgments"] + 1, err):
            return
        mine["judgments"] += 1
        instance = values.get("jus_Instance", "")
        if instance not in Instance.values:
            err(line, "jus_Instance", _unknown())
        outcome = values.get("jus_Outcome", "")
        if outcome not in Outcome.values:
            err(line, "jus_Outcome", _unknown())
        decided_on = self._date(line, values, "jus_OccurredOn", err)
        sentence = values.get("jus_Sentence", "")
        if sentence and sentence not in SentenceKind.values:
            err(line, "jus_Sentence", _unknown())
        convicted = outcome in (Outcome.CONVICTED, Outcome.PARTLY)
        if convicted and not sentence:
            err(line, "jus_Sentence", _("A conviction needs a sentence."))
        if not convicted and sentence:
            err(line, "jus_Sentence", _("Only a conviction carries a sentence."))
        months_raw = values.get("jus_Months", "")
        months = int(months_raw) if months_raw.isdigit() and int(months_raw) < 10000 else None
        if months_raw and months is None:
            err(line, "jus_Months", _("Write the months as a whole number."))
        if sentence in (SentenceKind.IMPRISONMENT, SentenceKind.SUSPENDED) and not months:
            err(line, "jus_Months", _("Give the months of the sentence."))
        fine_raw = values.get("jus_FineEur", "")
        fine = None
        if fine_raw:
            try:
                fine = Decimal(fine_raw)
            except InvalidOperation:
                fine = None
            if fine is None or not fine.is_finite() or fine < 0 or fine >= Decimal("1e10"):
                err(line, "jus_FineEur", _("Write the amount as a number, e.g. 1500.00."))
                fine = None
        if sentence == SentenceKind.FINE and not fine:
            err(line, "jus_FineEur", _("Give the amount of the fine."))
        final = values.get("jus_Final", "") or "false"
        if final not in ("true", "false"):
            err(line, "jus_Final", _("Write true or false."))
        if len(values.get("jus_Document", "")) > 100:
            err(line, "jus_Document", _("The value is too long."))
        plan["judgments"].append(
            {
                "line": line,
                "label": label,
                "number": mine["judgments"],
                "instance": instance,
                "outcome": outcome,
                "decided_on": decided_on,
                "final": final == "true",
                "document": values.get("jus_Document", ""),
                "sentence": sentence,
                "months": months,
                "fine_eur": fine,
            }
        )

    # --- counting (dry run) and writing ---

    def _records(self, plan) -> int:
        return 1 + sum(len(plan[name]) for name in ("defendants", "events", "charges", "judgments"))

    def _existing_counts(self, case: CriminalCase) -> dict:
        return {
            "defendants": {d.label: d for d in case.defendants.select_related("person")},
            "events": case.events.count(),
            "charges": {
                label: count
                for label, count in _count_by(
                    Charge.objects.filter(defendant__case=case), "defendant__label"
                )
            },
            "judgments": {
                label: count
                for label, count in _count_by(
                    Judgment.objects.filter(case=case), "defendant__label"
                )
            },
        }

    def _new_rows(self, plan) -> tuple[dict, int, int]:
        """Which of the plan's records are new; (plan of new records, new count, old count)."""
        existing = plan["existing"]
        if existing is None:
            return plan, self._records(plan), 0
        counts = self._existing_counts(existing)
        new = dict(plan)
        new["defendants"] = [
            d for d in plan["defendants"] if d["label"] not in counts["defendants"]
        ]
        new["events"] = plan["events"][counts["events"] :]
        new["charges"] = [
            c for c in plan["charges"] if c["number"] > counts["charges"].get(c["label"], 0)
        ]
        new["judgments"] = [
            j for j in plan["judgments"] if j["number"] > counts["judgments"].get(j["label"], 0)
        ]
        added = self._records(new) - 1
        new["changed_case"] = [
            name
            for name in ("police_number", "prosecution_number", "court_number")
            if getattr(existing, name) != plan["case"][name]
        ] + [
            name
            for name in ("court",)
            if getattr(existing, f"{name}_id") != getattr(plan["case"][name], "pk", None)
        ]
        return new, added, self._records(plan) - added

    def _count(self, plan) -> None:
        new, added, old = self._new_rows(plan)
        report = self.report
        if plan["existing"] is None:
            report.created += added
        else:
            report.created += added
            report.unchanged += old - (1 if new.get("changed_case") else 0)
            report.updated += 1 if new.get("changed_case") else 0

    def _write(self, plan) -> None:
        new, added, old = self._new_rows(plan)
        report = self.report
        actor = self.actor
        job_id = str(self.job.public_id) if self.job else ""
        details = {"import_job": job_id} if job_id else {}
        purpose = "import" if self.job is None else f"import job {self.job.public_id}"
        existing = plan["existing"]
        if existing is None:
            case = CriminalCase(reference=plan["reference"], opened_by=actor, **plan["case"])
            case.save()
            case.victim_cases.set(plan["victims"])
            defendants: dict[str, Defendant] = {}
            charges: dict[tuple, Charge] = {}
        else:
            case = CriminalCase.objects.select_for_update().get(pk=existing.pk)
            for name in new.get("changed_case", []):
                setattr(case, name, plan["case"][name])
            if new.get("changed_case"):
                case.save()
            defendants = {d.label: d for d in case.defendants.all()}
            charges = {}
            for label, defendant in defendants.items():
                for position, charge in enumerate(defendant.charges.order_by("pk"), start=1):
                    charges[(label, position)] = charge
        created_persons = []
        # Every record the file adds, for its own audit event (issue 12: one event per record).
        written: list = []
        for row in new["defendants"]:
            person = row["person"]
            if person is None:
                person = row["new_person"]
                person.created_by = actor
                person.save()
                created_persons.append(person)
            defendants[row["label"]] = Defendant.objects.create(
                case=case,
                person=person,
                label=row["label"],
                roles=row["roles"],
                detention=row["detention"],
                public_official=row["public_official"],
                status=row["status"],
                added_by=actor,
            )
            written.append(defendants[row["label"]])
        events = list(case.events.order_by("recorded_at", "pk")) if existing is not None else []
        for row in new["events"]:
            event = ProceedingEvent(
                case=case,
                kind=row["kind"],
                occurred_on=row["occurred_on"],
                document=row["document"],
                agency=row["agency"],
                defendant=defendants.get(row["defendant"]),
                corrects=events[row["corrects"] - 1] if row["corrects"] else None,
                withdrawn=row["withdrawn"],
                recorded_by=actor,
            )
            event.save()
            events.append(event)
            written.append(event)
        for row in new["charges"]:
            charge = Charge.objects.create(
                defendant=defendants[row["label"]],
                offence=row["offence"],
                counts=row["counts"],
                stage=row["stage"],
                replaces=charges.get((row["label"], row["replaces"])) if row["replaces"] else None,
                recorded_on=row["recorded_on"],
                recorded_by=actor,
            )
            charge.victim_cases.set(row["victims"])
            charges[(row["label"], row["number"])] = charge
            written.append(charge)
        for row in new["judgments"]:
            defendant = defendants[row["label"]]
            judgment = Judgment.objects.create(
                case=case,
                defendant=defendant,
                instance=row["instance"],
                outcome=row["outcome"],
                decided_on=row["decided_on"],
                final=row["final"],
                document=row["document"],
                recorded_by=actor,
            )
            written.append(judgment)
            if row["sentence"]:
                minimum = justice.statutory_minimum(defendant)
                Sentence.objects.create(
                    judgment=judgment,
                    kind=row["sentence"],
                    months=row["months"],
                    fine_eur=row["fine_eur"],
                    minimum_months=minimum,
                    below_minimum=justice.below_minimum(row["sentence"], row["months"], minimum),
                )
        # The stage, flags and deadlines as the services derive them; then the statuses the
        # file states (its source derived them the same way, or a court decided them since).
        justice.refresh_derived(case)
        for row in new["defendants"]:
            Defendant.objects.filter(pk=defendants[row["label"]].pk).update(status=row["status"])
        if created_persons:
            audit.record_each(
                audit.Action.CREATE,
                created_persons,
                actor=actor,
                field_groups=groups_of(htcds.PERSON_COLUMNS.values()),
                purpose=purpose,
                details=details,
            )
        if written:
            # The criminal case's event below says how many records the file added; each of
            # them also has its own, so the log names every record an import wrote.
            audit.record_each_together(
                [
                    audit.Each(
                        audit.Action.CREATE,
                        same,
                        actor=actor,
                        field_groups=["investigation"],
                        purpose=purpose,
                        details=details,
                    )
                    for same in _by_model(written)
                ]
            )
        if existing is None:
            audit.record(
                actor,
                audit.Action.CREATE,
                obj=case,
                field_groups=["investigation"],
                purpose=purpose,
                details={**details, "records": added},
            )
            report.created += added
        else:
            if added or new.get("changed_case"):
                audit.record(
                    actor,
                    audit.Action.UPDATE,
                    obj=case,
                    field_groups=["investigation"],
                    purpose=purpose,
                    details={
                        **details,
                        "records": added,
                        "fields": sorted(new.get("changed_case", [])),
                    },
                )
            report.created += added
            report.unchanged += old - (1 if new.get("changed_case") else 0)
            report.updated += 1 if new.get("changed_case") else 0


def _by_model(records: list) -> list[list]:
    """``records`` grouped by model, in the order each model first appears."""
    groups: dict[type, list] = {}
    for record in records:
        groups.setdefault(type(record), []).append(record)
    return list(groups.values())


def _column_of(field_name: str) -> str:
    for column, name in htcds.PERSON_COLUMNS.items():
        if name == field_name:
            return column
    return field_name or "jus_DefendantReference"


def _count_by(queryset, name: str):
    from django.db.models import Count

    return queryset.values_list(name).annotate(n=Count("pk")).values_list(name, "n")
