"""Importing victim records: a dry run that validates every row, then the real run, each a
background job (the real run writes in atomic batches).

Each valid row becomes a person and one victim case owned by the row's agency, validated by
the models' own rules (``full_clean``, as the registration and case services do) and the
HTCDS code lists. The import is idempotent on (``ext_Agency``, ``ext_Reference``): a row seen
before and unchanged writes nothing; a changed row updates its person and case (audited as an
update). Every record written gets one audit event naming the import job. Reasons in the report
are in the starter's language and never quote a cell's content: it may be someone's identity.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.access import policy
from streha.accounts.models import Agency, User
from streha.audit import services as audit
from streha.cases.models import Case, CaseEvent, Source
from streha.cases.services import new_reference as new_case_reference
from streha.cases.services import reminders_owed
from streha.imports import htcds
from streha.imports.models import ImportedRecord, ImportMapping, ImportUpload, ImportUploadChunk
from streha.imports.reader import FileRefused, Row, count_rows, read_rows
from streha.imports.reader import Source as FileSource
from streha.jobs.models import JobState
from streha.jobs.registry import job_kind
from streha.jobs.services import JobContext, JobError, start_job
from streha.people.models import Person
from streha.people.name_index import insert_new
from streha.people.services import groups_of
from streha.people.services import new_reference as new_person_reference
from streha.places.models import Municipality
from streha.protection import bulk, chunks, keys
from streha.protection.crypto import blind_index
from streha.protection.models import assign_ids

logger = logging.getLogger("streha.imports")

JOB_KIND = "imports.htcds"
DRY_RUN_KIND = "imports.dry_run"
PROFILES = ("htcds", "kobo", "jus")
# The people services' own words for it (same message, same translations).
ANONYMISED = gettext_lazy("This record was anonymised and can no longer be changed.")
BATCH = settings.STREHA_IMPORT_BATCH
MAX_REPORTED = 1000
# The report's counts a resumed job carries on from (``_walk``).
CHECKPOINTED = (
    "created",
    "updated",
    "unchanged",
    "rejected",
    "rows",
    "errors",
    "tasks",
    "tasks_overdue",
)
PERSON_UPDATABLE = (*htcds.PERSON_COLUMNS.values(), "birth_year")
CASE_UPDATABLE = (
    "exploitation_types",
    "recruitment_methods",
    "control_methods",
    "recruitment_countries",
    "transit_countries",
    "exploitation_countries",
    "age_at_identification",
    "is_child",
    "first_contact_municipality_id",
    "forced_labour_industries",
    "sex_exploitation_types",
    "relationship_to_trafficker",
    "exploitation_city",
    "trafficked_on",
    "interview_consent",
    "decision_organisation",
)


@dataclass
class Report:
    """What an import did or would do; rejected rows by line, column and reason only."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    # Reminder tasks the new open cases are owed (``cases.services.reminders_owed``), and how
    # many of them were already due before the import (old records arrive late).
    tasks: int = 0
    tasks_overdue: int = 0
    errors: list = field(default_factory=list)  # [line, column, reason]
    ignored_columns: list = field(default_factory=list)
    unknown_columns: list = field(default_factory=list)
    file_error: str = ""

    def reject(self, line: int, column: str, reason: str) -> None:
        if len(self.errors) < MAX_REPORTED:
            self.errors.append([line, column, reason])

    def as_dict(self) -> dict:
        return dict(self.__dict__)

    @property
    def ok(self) -> bool:
        return not self.file_error and self.rejected == 0


def may_import(user: User | None, agency: Agency) -> bool:
    return user is None or policy.can_import_records(user, agency)


def saved_mapping(agency: Agency) -> dict:
    mapping = ImportMapping.objects.filter(agency=agency).first()
    return {"headers": mapping.headers, "values": mapping.values} if mapping else {}


def remember_mapping(user: User, agency: Agency, headers: dict, values: dict) -> ImportMapping:
    policy.require(may_import(user, agency))
    mapping, _created = ImportMapping.objects.update_or_create(
        agency=agency, defaults={"headers": headers, "values": values}
    )
    return mapping


def _fingerprint(parsed: htcds.ParsedRow) -> str:
    canonical = repr(sorted(parsed.person.items())) + repr(sorted(parsed.case.items()))
    return blind_index(keys.keyring().index_key, "import.row", canonical)


@dataclass
class Prepared:
    line: int
    agency: Agency
    parsed: htcds.ParsedRow
    person: Person
    case: Case
    fingerprint: str


class _Importer:
    """Reads, validates and (unless dry) writes; one instance per run."""

    def __init__(self, actor, agency: Agency, mapping: dict, profile: str, job=None):
        self.actor = actor
        self.agency = agency
        self.mapping = mapping or {}
        self.profile = profile
        self.job = job
        self.agencies: dict[str, Agency | None] = {agency.code: agency}
        self.municipalities: dict[str, int | None] = {}
        self.report = Report()
        # References met so far in this file: the same one twice is an error, across batches.
        # A job's run keeps only the current batch's here: its earlier batches are found in the
        # database (records whose last job is this one), so memory does not grow with the file.
        self.seen: set = set()
        # "In the future" is judged against the day the batch is read: one clock read per
        # batch (``_flush``), not per row (it was a fifth of a row's parsing).
        self.today = timezone.localdate()

    def _agency(self, code: str) -> Agency | None:
        if code not in self.agencies:
            found = Agency.objects.filter(code=code, is_active=True).first()
            self.agencies[code] = found if found and may_import(self.actor, found) else None
        return self.agencies[code]

    def _municipality(self, code: str) -> int | None:
        if code not in self.municipalities:
            self.municipalities[code] = (
                Municipality.objects.filter(code=code).values_list("pk", flat=True).first()
            )
        return self.municipalities[code]

    def header(self, row: Row) -> htcds.Columns | None:
        columns = htcds.read_header(row.cells, mapping=self.mapping, profile=self.profile)
        self.report.ignored_columns = columns.ignored
        self.report.unknown_columns = columns.unknown
        if columns.missing or columns.duplicated or row.problems:
            names = ", ".join(columns.missing or columns.duplicated)
            self.report.file_error = (
                _("Required columns are missing: %(names)s.") % {"names": names}
                if columns.missing
                else _("Columns appear twice: %(names)s.") % {"names": names}
                if columns.duplicated
                else _("The header line cannot be read.")
            )
            return None
        return columns

    def prepare(self, row: Row, columns: htcds.Columns) -> Prepared | None:
        """Validate one row completely; report and return None if it is rejected."""
        problems = []
        if row.problems:
            names = {position: name for name, position in columns.index.items()}
            problems = [(names.get(index, str(index + 1)), r) for index, r in row.problems]
        try:
            parsed = htcds.parse_row(
                row.cells, columns, mapping=self.mapping, profile=self.profile, today=self.today
            )
        except htcds.RowErrors as exc:
            problems.extend(exc.errors)
            parsed = None
        agency = self.agency
        if parsed is not None and parsed.agency_code and parsed.agency_code != self.agency.code:
            agency = self._agency(parsed.agency_code)
            if agency is None:
                problems.append(("ext_Agency", _("Unknown agency, or one you may not import for.")))
        municipality_id = None
        if parsed is not None and parsed.case["_municipality"]:
            municipality_id = self._municipality(parsed.case["_municipality"])
            if municipality_id is None:
                problems.append(("ext_Municipality", _("Unknown municipality code.")))
        if problems or parsed is None:
            self._reject(row.line, problems)
            return None
        case_fields = {k: v for k, v in parsed.case.items() if not k.startswith("_")}
        case_fields["source"] = case_fields["source"] or SOURCE_FOR_KIND(agency)
        parsed.case = {**case_fields, "first_contact_municipality_id": municipality_id}
        # Built as ``Model(**values)`` builds them, without its per-field keyword lookups
        # (``bulk.build``): for the case's sixty columns they cost more than the row's values.
        person = bulk.build(
            Person, {"owner_agency": agency, "reference": parsed.reference, **parsed.person}
        )
        case = bulk.build(
            Case,
            {
                "person": person,
                "owner_agency": agency,
                "reference": "C-IMPORT",
                "sex": person.gender,
                "citizenship": person.citizenship,
                **parsed.case,
            },
        )
        try:
            person.full_clean(exclude=_PERSON_NOT_FROM_FILE, validate_unique=False)
            case.full_clean(exclude=_CASE_NOT_FROM_FILE, validate_unique=False)
        except ValidationError as exc:
            # Never exc.messages' values: only what is wrong, by column (no cell quoted).
            fields = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
            self._reject(
                row.line,
                [(_column_of(name), " ".join(messages)) for name, messages in fields.items()],
            )
            return None
        return Prepared(row.line, agency, parsed, person, case, _fingerprint(parsed))

    def _reject(self, line: int, problems: Iterable[tuple[str, str]]) -> None:
        self.report.rejected += 1
        for column, reason in problems:
            self.report.reject(line, column, str(reason))

    def classify(self, batch: list[Prepared]) -> dict:
        keyset = {(p.agency.pk, p.parsed.reference) for p in batch}
        existing = {}
        for record in ImportedRecord.objects.filter(
            agency_id__in={a for a, _r in keyset},
            source_reference__in={r for _a, r in keyset},
        ).select_related("person", "case"):
            existing[(record.agency_id, record.source_reference)] = record
        return existing

    def count_dry(self, batch: list[Prepared]) -> None:
        existing = self.classify(batch)
        seen = self.seen
        for prepared in batch:
            key = (prepared.agency.pk, prepared.parsed.reference)
            record = existing.get(key)
            if key in seen:
                self._reject(
                    prepared.line,
                    [("ext_Reference", _("This reference appears twice in the file."))],
                )
            elif record is None:
                self.report.created += 1
                self._count_tasks(reminders_owed(prepared.case))
            elif record.fingerprint == prepared.fingerprint:
                self.report.unchanged += 1
            elif record.person.anonymised_at is not None:
                self._reject(prepared.line, [("ext_Reference", ANONYMISED)])
            else:
                self.report.updated += 1
            seen.add(key)

    def _count_tasks(self, tasks: list) -> None:
        today = timezone.localdate()
        self.report.tasks += len(tasks)
        self.report.tasks_overdue += sum(1 for task in tasks if task.due_on < today)

    def write(self, batch: list[Prepared]) -> None:
        """Write one batch (the caller holds the transaction)."""
        existing = self.classify(batch)
        job_id = str(self.job.public_id) if self.job else ""
        details = {"import_job": job_id} if job_id else {}
        seen = self.seen if self.job is None else set()
        new: list[Prepared] = []
        unchanged: list[int] = []
        for prepared in batch:
            key = (prepared.agency.pk, prepared.parsed.reference)
            record = existing.get(key)
            earlier_batch = (
                self.job is not None and record is not None and record.last_job_id == self.job.pk
            )
            if key in seen or earlier_batch:
                self._reject(
                    prepared.line,
                    [("ext_Reference", _("This reference appears twice in the file."))],
                )
                continue
            seen.add(key)
            if record is None:
                new.append(prepared)
            elif record.fingerprint == prepared.fingerprint:
                self.report.unchanged += 1
                unchanged.append(record.pk)
            elif record.person.anonymised_at is not None:
                self._reject(prepared.line, [("ext_Reference", ANONYMISED)])
            else:
                self._update(record, prepared, details)
        if new:
            self._create(new, details)
        if unchanged and self.job is not None:
            # Marked as met by this job (one statement per batch), for the duplicate check.
            ImportedRecord.objects.filter(pk__in=unchanged).update(last_job=self.job)

    def _create(self, new: list[Prepared], details: dict) -> None:
        """Insert a batch's new victims: every table once, with the demo generator's bulk
        insert (``streha.protection.bulk``: the same sealing and blind indexes as ``bulk_create``,
        without its per-value SQL compilation on SQLite, which cost more than the sealing)."""
        taken = set(
            Person.objects.filter(reference__in=[p.parsed.reference for p in new]).values_list(
                "reference", flat=True
            )
        )
        persons, cases = [], []
        for prepared in new:
            person = prepared.person
            if person.reference in taken:
                person.reference = new_person_reference()
            person.created_by = self.actor
            persons.append(person)
        # Protected records are sealed to their ids: the ids come first (protection.models).
        assign_ids(persons)
        insert_new(persons, bulk.insert)  # with their per-name search entries and markers
        for prepared in new:
            case = prepared.case
            case.person = prepared.person
            case.reference = new_case_reference()
            case.created_by = self.actor
            cases.append(case)
        assign_ids(cases)
        bulk.insert(cases)
        # The records below are built from ids (they are written, not read again): setting a
        # relation by its record costs the constructor more than the row's other columns.
        actor_id = self.actor.pk if self.actor is not None else None
        job_id_pk = self.job.pk if self.job is not None else None
        events = [
            bulk.build(
                CaseEvent,
                {
                    "case_id": case.pk,
                    "actor_id": actor_id,
                    "kind": "import",
                    "to_status": case.status,
                    "details": details,
                },
            )
            for case in cases
        ]
        assign_ids(events)
        bulk.insert(events)
        # The reminders registration would have created, due at the record's own dates (only
        # new cases: a rerun of the file creates none, an update none either).
        tasks = [task for case in cases for task in reminders_owed(case)]
        bulk.insert(tasks)
        self._count_tasks(tasks)
        bulk.insert(
            [
                bulk.build(
                    ImportedRecord,
                    {
                        "agency_id": p.agency.pk,
                        "source_reference": p.parsed.reference,
                        "person_id": p.person.pk,
                        "case_id": p.case.pk,
                        "fingerprint": p.fingerprint,
                        "last_job_id": job_id_pk,
                    },
                )
                for p in new
            ]
        )
        purpose = _purpose(self.job)
        # The protected groups each case was written with (most cases: none).
        by_groups: dict[tuple, list[Case]] = {}
        for case in cases:
            written = [name for name in _CASE_PROTECTED if getattr(case, name)]
            by_groups.setdefault(tuple(_case_groups(written)), []).append(case)
        # One append for the batch: persons, then cases, chained in one pass under one lock.
        audit.record_each_together(
            [
                audit.Each(
                    audit.Action.CREATE,
                    persons,
                    actor=self.actor,
                    field_groups=groups_of(htcds.PERSON_COLUMNS.values()),
                    purpose=purpose,
                    details=details,
                ),
                *(
                    audit.Each(
                        audit.Action.CREATE,
                        same,
                        actor=self.actor,
                        field_groups=groups,
                        purpose=purpose,
                        details=details,
                    )
                    for groups, same in by_groups.items()
                ),
            ]
        )
        self.report.created += len(new)

    def _update(self, record: ImportedRecord, prepared: Prepared, details: dict) -> None:
        person, case = record.person, record.case
        person_changed = [
            name
            for name in PERSON_UPDATABLE
            if getattr(person, name) != getattr(prepared.person, name)
        ]
        for name in person_changed:
            setattr(person, name, getattr(prepared.person, name))
        if person_changed:
            person.save()
        case_changed = []
        if case is not None:
            case_changed = [
                name
                for name in CASE_UPDATABLE
                if _stored(getattr(case, name)) != _stored(getattr(prepared.case, name))
            ]
            for name in case_changed:
                setattr(case, name, getattr(prepared.case, name))
            if case_changed:
                case.version += 1
                case.save()
                CaseEvent.objects.create(
                    case=case,
                    actor=self.actor,
                    kind="import_update",
                    details={**details, "fields": sorted(case_changed)},
                )
        record.fingerprint = prepared.fingerprint
        record.last_job = self.job
        record.save(update_fields=["fingerprint", "last_job", "updated_at"])
        purpose = _purpose(self.job)
        if person_changed:
            audit.record(
                self.actor,
                audit.Action.UPDATE,
                obj=person,
                purpose=purpose,
                field_groups=groups_of(person_changed),
                details={**details, "fields": sorted(person_changed)},
            )
        if case_changed:
            audit.record(
                self.actor,
                audit.Action.UPDATE,
                obj=case,
                purpose=purpose,
                field_groups=_case_groups(case_changed),
                details={**details, "fields": sorted(case_changed)},
            )
        self.report.updated += 1


# What the file writes is validated by the models' own rules; the other fields keep their
# model defaults, valid by construction, and are not checked again on every row (that was a
# tenth of the import's time). The owner, person and municipality were looked up already (once
# per code and job): validating those keys again would ask the database on every row.
_PERSON_FROM_FILE = {*htcds.PERSON_COLUMNS.values(), "birth_year"}
_CASE_FROM_FILE = {
    *CASE_UPDATABLE,
    "first_contact_on",
    "decided_on",
    "presumed_on",
    "reflection_ends_on",
    "status",
    "status_before_closure",
    "source",
    "sex",
    "citizenship",
} - {"first_contact_municipality_id"}
_PERSON_NOT_FROM_FILE = [f.name for f in Person._meta.fields if f.name not in _PERSON_FROM_FILE]
_CASE_NOT_FROM_FILE = [f.name for f in Case._meta.fields if f.name not in _CASE_FROM_FILE]

_CASE_PROTECTED = tuple(name for names in Case.FIELD_GROUPS.values() for name in names)


def _case_groups(field_names: Iterable[str]) -> list[str]:
    names = set(field_names)
    return sorted(group for group, fields in Case.FIELD_GROUPS.items() if names & set(fields))


def _stored(value):
    """A protected field added to existing records reads None there; the file's empty cell
    means the same."""
    return "" if value is None else value


def _purpose(job) -> str:
    return "import" if job is None else f"import job {job.public_id}"


def SOURCE_FOR_KIND(agency: Agency) -> str:  # noqa: N802 - a table read as a function
    return htcds.SOURCE_BY_AGENCY_KIND.get(agency.kind, Source.INTERNATIONAL_ORGANISATION)


def _column_of(field_name: str) -> str:
    for column, name in htcds.PERSON_COLUMNS.items():
        if name == field_name:
            return column
    return field_name or "-"


def _rows(content: bytes, file_name: str):
    try:
        yield from read_rows(content, file_name)
    except FileRefused:
        raise


def dry_run(
    actor: User | None,
    agency: Agency,
    content: FileSource,
    *,
    file_name: str = "",
    mapping: dict | None = None,
    profile: str = "htcds",
    ctx: JobContext | None = None,
    size: int | None = None,
) -> Report:
    """Validate every row and say what would be created, updated or left as it is. Writes
    nothing; in a job (``ctx``), its progress every ``BATCH`` rows, which is also where a
    cancel is heard."""
    if not may_import(actor, agency):
        raise PermissionDenied(_("You are not allowed to do this."))
    tick = _dry_run_ticker(ctx)
    if profile == "jus":
        return _justice(actor, agency, _bytes(content), file_name, write=False, tick=tick)
    importer = _Importer(
        actor, agency, mapping if mapping is not None else saved_mapping(agency), profile
    )
    _walk(importer, content, file_name, write=False, tick=tick, size=size)
    return importer.report


def _dry_run_ticker(ctx: JobContext | None):
    """A dry run's progress: every ``BATCH`` rows read, stop if cancelled, move the bar.

    The job record's progress is the only thing a dry run writes besides its report; batches
    of rows keep that to one small update per batch, not one per row."""
    if ctx is None:
        return None

    def tick(rows: int) -> None:
        if rows % BATCH == 0:
            ctx.raise_if_cancelled()
            ctx.progress(rows)

    return tick


def _justice(actor, agency, content, file_name, *, write: bool, ctx=None, tick=None) -> Report:
    from streha.imports.justice_import import JusticeImporter

    importer = JusticeImporter(
        actor, agency, Report(), may_import=may_import, job=ctx.job if ctx else None
    )
    importer.walk(content, file_name, write=write, ctx=ctx, tick=tick)
    return importer.report


def _walk(
    importer: _Importer,
    content: FileSource,
    file_name: str,
    *,
    write: bool,
    ctx=None,
    tick=None,
    size: int | None = None,
) -> None:
    report = importer.report
    start_line = (ctx.checkpoint.get("line", 0) if ctx else 0) if write else 0
    if write and ctx and ctx.checkpoint.get("report"):
        saved = ctx.checkpoint["report"]
        for name in CHECKPOINTED:
            setattr(report, name, saved.get(name, 0))
    columns = None
    batch: list[Prepared] = []
    last_line = 0
    try:
        rows = read_rows(content, file_name, size=size)
        for row in rows:
            if columns is None:
                columns = importer.header(row)
                if columns is None:
                    return
                continue
            if not any(row.cells) and not row.problems:
                continue
            if row.line <= start_line:
                continue
            report.rows += 1
            last_line = row.line
            if tick is not None:
                tick(report.rows)
            prepared = importer.prepare(row, columns)
            if prepared is not None:
                batch.append(prepared)
            if len(batch) >= BATCH:
                _flush(importer, batch, write, ctx, last_line)
                batch = []
        if columns is None and not report.file_error:
            report.file_error = _("The file is empty.")
        _flush(importer, batch, write, ctx, last_line)
    except FileRefused as exc:
        report.file_error = str(exc)


def _flush(importer: _Importer, batch: list[Prepared], write: bool, ctx, last_line: int) -> None:
    importer.today = timezone.localdate()  # for the next batch's rows
    if not write:
        if batch:
            importer.count_dry(batch)
        return
    if ctx is not None:
        ctx.raise_if_cancelled()
    with transaction.atomic():
        if batch:
            importer.write(batch)
        if ctx is not None:
            report = importer.report
            ctx.progress(
                report.rows,
                checkpoint={
                    "line": last_line,
                    "report": {name: getattr(report, name) for name in CHECKPOINTED},
                },
            )


def import_now(
    actor: User | None,
    agency: Agency,
    content: FileSource,
    *,
    file_name: str = "",
    mapping: dict | None = None,
    profile: str = "htcds",
    ctx: JobContext | None = None,
    size: int | None = None,
) -> Report:
    """The real run: valid rows written in atomic batches; rejected rows reported."""
    if not may_import(actor, agency):
        raise PermissionDenied(_("You are not allowed to do this."))
    if profile == "jus":
        return _justice(actor, agency, _bytes(content), file_name, write=True, ctx=ctx)
    importer = _Importer(
        actor,
        agency,
        mapping if mapping is not None else saved_mapping(agency),
        profile,
        job=ctx.job if ctx else None,
    )
    _walk(importer, content, file_name, write=True, ctx=ctx, size=size)
    return importer.report


def _count_rows(upload: ImportUpload) -> int:
    with _opened(upload) as stream:
        return max(0, count_rows(stream, upload.file_name, size=upload.size) - 1)


def _bytes(content: FileSource) -> bytes:
    """The justice profile reads its (smaller) file whole: the rows of one criminal case are
    checked together."""
    return content if isinstance(content, bytes) else content.read()


def _keep_upload(content: bytes, **fields) -> ImportUpload:
    """Keep an uploaded file sealed in chunks (``streha.protection.chunks``), so that its job
    can read it chunk by chunk: the plaintext is never whole in the job's memory (CSV)."""
    upload = ImportUpload.objects.create(content=b"", size=len(content), **fields)
    ImportUploadChunk.objects.bulk_create(
        ImportUploadChunk(upload=upload, index=index, sealed=token)
        for index, token in enumerate(chunks.seal_chunks(upload, "content", content))
    )
    return upload


def _stored_chunks(upload: ImportUpload):
    """The upload's sealed chunks in order, one query each (no cursor left open while the
    import commits its batches); a missing one ends them, which ``open_chunks`` refuses unless
    the last chunk came."""
    index = 0
    while True:
        token = (
            ImportUploadChunk.objects.filter(upload=upload, index=index)
            .values_list("sealed", flat=True)
            .first()
        )
        if token is None:
            return
        yield token
        index += 1


def _opened(upload: ImportUpload):
    """The upload's file as a binary stream, decrypted chunk by chunk as it is read (inside the
    job's audited read). An upload kept before chunks existed is read from ``content``."""
    if not ImportUploadChunk.objects.filter(upload=upload).exists():
        return chunks.stream([bytes(upload.content)])
    return chunks.stream(chunks.open_chunks(upload, "content", _stored_chunks(upload)))


def upload_content(upload: ImportUpload) -> bytes:
    """The whole file (tests, and the small files of the page's own checks)."""
    with _opened(upload) as stream:
        return stream.read()


UNCONFIRMED_HOURS = 2


@transaction.atomic
def check_upload(
    actor: User,
    agency: Agency,
    content: bytes,
    *,
    file_name: str = "",
    profile: str = "htcds",
) -> ImportUpload:
    """Keep an uploaded file (encrypted) and queue its dry run as a job: its page shows the
    progress, then the report, and asks whether to import. Unconfirmed uploads are deleted
    after ``UNCONFIRMED_HOURS``.

    Checking 80,000 rows takes about half a minute: longer than a web request may last, so the
    rows are checked by the worker, not here. Only the header is read here (a file that cannot
    be imported at all is refused at once)."""
    if not may_import(actor, agency):
        raise PermissionDenied(_("You are not allowed to do this."))
    if profile not in PROFILES:
        raise ValidationError({"profile": _("Choose a file layout from the list.")})
    problem = _header_problem(agency, content, file_name, profile)
    if problem:
        raise ValidationError({"upload": problem})
    purge_unconfirmed_uploads()
    job = start_job(DRY_RUN_KIND, actor, {"agency": agency.code, "profile": profile}, agency=agency)
    return _keep_upload(
        content,
        uploaded_by=actor,
        dry_run_job=job,
        agency=agency,
        profile=profile,
        file_name=file_name[:255],
    )


def _header_problem(agency: Agency, content: bytes, file_name: str, profile: str) -> str:
    """Why the file cannot be imported at all, from its first line only ("" if nothing): not
    CSV or XLSX, empty, required columns missing or twice. Column names only, never a cell."""
    rows = read_rows(content, file_name)
    try:
        first = next(rows, None)
    except FileRefused as exc:
        return str(exc)
    finally:
        rows.close()
    if first is None:
        return _("The file is empty.")
    if profile == "jus":
        from streha.imports.justice_import import read_header

        _index, _unknown, duplicated, missing = read_header(first.cells)
        if missing or duplicated:
            names = ", ".join(missing or duplicated)
            return (
                _("Required columns are missing: %(names)s.") % {"names": names}
                if missing
                else _("Columns appear twice: %(names)s.") % {"names": names}
            )
        return _("The header line cannot be read.") if first.problems else ""
    importer = _Importer(None, agency, saved_mapping(agency), profile)
    importer.header(first)
    return importer.report.file_error


def purge_unconfirmed_uploads(now=None) -> int:
    now = now or timezone.now()
    deleted, _kinds = ImportUpload.objects.filter(
        job__isnull=True, uploaded_at__lt=now - timedelta(hours=UNCONFIRMED_HOURS)
    ).delete()
    return deleted


@transaction.atomic
def confirm_import(actor: User, upload: ImportUpload):
    """Queue the real run of a checked upload; the file is kept until the job is over.

    Only after its dry run finished, and only if that found the file readable: the person
    confirms what the report showed them."""
    if upload.uploaded_by_id != getattr(actor, "pk", None) or upload.job_id is not None:
        raise PermissionDenied(_("You are not allowed to do this."))
    checked = upload.dry_run_job
    if checked is None or checked.state != JobState.SUCCEEDED:
        raise ValidationError(_("The check of the file is not finished; wait for its report."))
    if Report(**checked.result).file_error:
        raise ValidationError(_("This file cannot be imported; correct it and upload it again."))
    return _queue_import(actor, upload)


def _queue_import(actor: User | None, upload: ImportUpload):
    job = start_job(
        JOB_KIND,
        actor,
        {
            "agency": upload.agency.code,
            "profile": upload.profile,
            "mapping": saved_mapping(upload.agency),
            # Started by the command line (no person): the job does not look for a starter.
            "system": actor is None,
        },
        agency=upload.agency,
    )
    upload.job = job
    upload.save(update_fields=["job"])
    return job


def start_import(
    actor: User | None,
    agency: Agency,
    content: bytes,
    *,
    file_name: str = "",
    profile: str = "htcds",
):
    """Keep the file and queue the real run at once (the command line: no page to confirm)."""
    if not may_import(actor, agency):
        raise PermissionDenied(_("You are not allowed to do this."))
    with transaction.atomic():
        upload = _keep_upload(
            content,
            uploaded_by=actor,
            agency=agency,
            profile=profile,
            file_name=file_name[:255],
        )
        return _queue_import(actor, upload)


def _may_start(user, params) -> bool:
    agency = Agency.objects.filter(code=params.get("agency")).first()
    return agency is not None and may_import(user, agency)


def _delete_upload(job) -> None:
    ImportUpload.objects.filter(job=job).delete()


def _delete_unchecked_upload(job) -> None:
    """A dry run that did not finish (cancelled, or failed and discarded) leaves nothing to
    confirm: its file goes. A finished one keeps it for the real run."""
    if job.state != JobState.SUCCEEDED:
        ImportUpload.objects.filter(dry_run_job=job, job__isnull=True).delete()


@job_kind(
    DRY_RUN_KIND,
    label=gettext_lazy("Check of the file"),
    may_start=_may_start,
    cleanup=_delete_unchecked_upload,
    result_url_name="imports:check",
)
def run_dry_run(ctx: JobContext) -> dict:
    """Check every row of an uploaded file for its starter, who must still be allowed to
    import for the agency; the result is the report the page shows (no cell quoted)."""
    upload = (
        ImportUpload.objects.filter(dry_run_job=ctx.job, job__isnull=True)
        .select_related("agency")
        .first()
    )
    if upload is None:
        raise JobError(_("The uploaded file is no longer kept; upload it again."))
    agency = upload.agency
    user = ctx.starter(lambda user: may_import(user, agency))
    ctx.progress(0, _count_rows(upload))
    with _opened(upload) as stream:
        report = dry_run(
            user,
            agency,
            stream,
            file_name=upload.file_name,
            profile=upload.profile,
            ctx=ctx,
            size=upload.size,
        )
    return report.as_dict()


@job_kind(
    JOB_KIND,
    label=_("Import of victim records"),
    may_start=_may_start,
    cleanup=_delete_upload,
    result_url_name="imports:report",
)
def run_import(ctx: JobContext) -> dict:
    upload = ImportUpload.objects.filter(job=ctx.job).first()
    agency = upload.agency if upload is not None else None
    if upload is None or agency is None:
        raise JobError(_("The uploaded file is no longer kept; upload it again."))
    # A person's import runs only while they may still import for the agency (a starter
    # deleted since would otherwise leave the job running as the system).
    starter = None if ctx.params.get("system") else ctx.starter(lambda u: may_import(u, agency))
    if not ctx.checkpoint:
        ctx.progress(0, _count_rows(upload))
    # The file is decrypted chunk by chunk as its rows are read: a CSV's plaintext is never
    # whole in memory (an XLSX workbook, a zip read by random access, is: bounded by the
    # upload limit and the expansion checks).
    with _opened(upload) as stream:
        report = import_now(
            starter,
            agency,
            stream,
            file_name=upload.file_name,
            mapping=ctx.params.get("mapping") or {},
            profile=ctx.params.get("profile", "htcds"),
            ctx=ctx,
            size=upload.size,
        )
    return report.as_dict()
