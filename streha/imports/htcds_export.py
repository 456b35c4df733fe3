"""The national HTCDS v2.0 export: every victim (a person with a victim case, one row each, in
the import's own format) and every criminal case (``jus_*`` rows, see ``justice_rows``).

Pseudonymised unless a data-sharing agreement allows identities. The agreement is represented
by who asks and how: ``identities=True`` is for the national coordinator's supervisors and
administrators only (``policy.can_export_htcds_identities``), after a fresh re-authentication
on the page, and is audited as an export of every person named; the command line's
``--identities`` is the server operator's (audited the same way). Pseudonymised files keep
each person's place in the data (a keyed pseudonym instead of the reference, the same in the
victim and justice files) but no name, birth date, identity number, phone or free text.

Files written with identities read back unchanged: importing them into an empty system and
exporting again gives the same bytes (``tests/test_htcds_export.py``).
"""

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.access import policy
from streha.accounts.models import User
from streha.audit import read_context
from streha.audit import services as audit
from streha.imports import htcds, justice_rows
from streha.imports.models import ExportFile
from streha.jobs.registry import job_kind
from streha.jobs.services import JobContext, start_job
from streha.protection import keys
from streha.protection.crypto import blind_index

JOB_KIND = "exports.htcds"
VICTIM_IDENTIFYING = (
    "prs_FirstName",
    "prs_SecondName",
    "prs_Birthdate",
    "prs_IdentityNumber",
    "prs_MobilePhone",
    "hte_City",  # a place someone could be found from (protected, narrative)
)
ZIP_TYPE = "application/zip"


@dataclass
class HtcdsExport:
    victims: bytes
    justice: bytes
    victim_rows: int
    justice_rows: int
    identities: bool
    named: list = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.victim_rows + self.justice_rows


def pseudonym(person) -> str:
    """A keyed pseudonym of the person: stable within this installation, so the victim and
    justice files (and two exports) link the same person, and not reversible without the key."""
    digest = blind_index(keys.keyring().index_key, "export.htcds.person", str(person.public_id))
    return "X-" + digest[:16].upper()


def may_export(user: User | None, identities: bool) -> bool:
    if user is None:  # the command line: the server's operator
        return True
    if identities:
        return policy.can_export_htcds_identities(user)
    return policy.can_export_htcds(user)


def _csv(header, rows: Iterator[dict]) -> tuple[bytes, int]:
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return out.getvalue().encode("utf-8"), count


def _victim_rows(identities: bool, named: list, tick: Callable[[], None]) -> Iterator[dict]:
    cases = (
        policy.cases_for_national_report()
        .select_related("person", "owner_agency", "first_contact_municipality")
        .order_by("owner_agency__code", "person__reference", "reference")
    )
    for case in cases.iterator(chunk_size=1000):
        person = case.person
        row = htcds.row_of(person, case)
        if identities:
            named.append(person)
        else:
            row["ext_Reference"] = pseudonym(person)
            for name in VICTIM_IDENTIFYING:
                row[name] = ""
            if case.age_at_identification is not None:
                row["vic_AgeWhenTrafficked"] = str(case.age_at_identification)
        tick()
        yield row


def _justice_rows(identities: bool, named: list, tick: Callable[[], None]) -> Iterator[dict]:
    from streha.justice.models import CriminalCase

    def reference_of(person) -> str:
        return person.reference if identities else pseudonym(person)

    cases = CriminalCase.objects.select_related(
        "police_agency", "prosecution_office", "court"
    ).prefetch_related("victim_cases__person")
    for case in cases.order_by("reference").iterator(chunk_size=200):
        for row in justice_rows.rows_of(case, reference_of=reference_of):
            if row["jus_Record"] == "Defendant" and identities:
                named.append(row["jus_DefendantReference"])
            if not identities:
                for name in justice_rows.IDENTIFYING:
                    row[name] = ""
            yield row
        tick()


def build(actor: User | None, *, identities: bool, tick: Callable[[], None] = lambda: None):
    """Both files, decrypted inside one audited system read; the caller audits the export."""
    if not may_export(actor, identities):
        raise PermissionDenied(_("You are not allowed to do this."))
    named: list = []
    reason = "HTCDS export with identities" if identities else "HTCDS export (pseudonymised)"
    with read_context.system(reason, actor=actor):
        victims, victim_count = _csv(htcds.EXPORT_COLUMNS, _victim_rows(identities, named, tick))
        justice, justice_count = _csv(justice_rows.COLUMNS, _justice_rows(identities, named, tick))
    return HtcdsExport(victims, justice, victim_count, justice_count, identities, named)


def _audited(actor: User | None, export: HtcdsExport, job=None) -> None:
    details = {
        "format": "htcds-2.0",
        "rows": export.rows,
        "victims": export.victim_rows,
        "justice": export.justice_rows,
        "identities": export.identities,
    }
    if job is not None:
        details["job"] = str(job.public_id)
    purpose = "HTCDS export with identities" if export.identities else "HTCDS export"
    audit.record(
        actor,
        audit.Action.EXPORT,
        object_type="export",
        object_id="htcds",
        purpose=purpose,
        details=details,
    )
    if export.identities:
        from streha.people.models import Person

        persons = {p.pk: p for p in export.named if not isinstance(p, str)}
        defendants = {p for p in export.named if isinstance(p, str)}
        for person in Person.objects.filter(reference__in=defendants):
            persons.setdefault(person.pk, person)
        persons = [persons[pk] for pk in sorted(persons)]
        if persons:
            audit.record_many(
                actor,
                audit.Action.EXPORT,
                persons,
                field_groups=["identity"],
                purpose=purpose,
                details=details,
            )


@transaction.atomic
def export_now(actor: User | None, *, identities: bool) -> HtcdsExport:
    """Make the export now (the command line) and audit it with its row count."""
    export = build(actor, identities=identities)
    _audited(actor, export, None)
    return export


def zipped(export: HtcdsExport) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in (
            ("htcds-victims.csv", export.victims),
            ("htcds-justice.csv", export.justice),
        ):
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


def file_name(identities: bool) -> str:
    kind = "identities" if identities else "pseudonymised"
    return f"streha-htcds-{kind}-{timezone.localdate().isoformat()}.zip"


def request_export(user: User, *, identities: bool):
    """Queue the export as a job of ``user`` (the page); the file waits for its download."""
    if not may_export(user, identities):
        raise PermissionDenied(_("You are not allowed to do this."))
    return start_job(JOB_KIND, user, {"identities": bool(identities)})


def _may_start(user, params) -> bool:
    return may_export(user, bool(params.get("identities")))


@job_kind(
    JOB_KIND,
    label=gettext_lazy("HTCDS export"),
    may_start=_may_start,
    result_url_name="imports:export_download",
)
def run_htcds_export(ctx: JobContext) -> dict:
    identities = bool(ctx.params.get("identities"))
    user = ctx.starter(lambda user: may_export(user, identities))
    from streha.cases.models import Case
    from streha.justice.models import CriminalCase

    total = Case.objects.count() + CriminalCase.objects.count()
    ctx.progress(0, total)
    done = [0]

    def tick():
        done[0] += 1
        if done[0] % 500 == 0:
            ctx.raise_if_cancelled()
            ctx.progress(done[0])

    export = build(user, identities=identities, tick=tick)
    with transaction.atomic():
        ExportFile.objects.create(
            job=ctx.job,
            file_name=file_name(identities),
            content_type=ZIP_TYPE,
            content=zipped(export),
            rows=export.rows,
        )
        _audited(user, export, ctx.job)
        ctx.progress(total, total)
    return {"rows": export.rows, "victims": export.victim_rows, "justice": export.justice_rows}
