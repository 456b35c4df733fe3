"""Exports of work lists (case list, task list, referral inbox, tip queue, audit log) as CSV
or XLSX, with the list's filters applied.

Rows come from the same policy-scoped selectors as the pages, so an export never holds more
than its user may see; names are written only for persons whose identity the user may see
(``policy.person_access``), and every export is audited with its row count (and, when names
are included, one export event per person named). A list longer than
``STREHA_EXPORT_INLINE_ROWS`` is made by a background job; its file is kept encrypted until
downloaded once.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from streha.access import policy
from streha.accounts.models import User
from streha.audit import read_context
from streha.audit import services as audit
from streha.imports.models import ExportFile
from streha.jobs.registry import job_kind
from streha.jobs.services import JobContext, start_job
from streha.web.labels import choice_label

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
JOB_KIND = "exports.worklist"


@dataclass(frozen=True)
class WorkList:
    name: str
    label: object
    may_export: Callable[[User], bool]
    filters: tuple[str, ...]
    rows: Callable[[User, dict], tuple[list, Iterator[list], list]]  # header, rows, persons


def _has_case_role(user: User) -> bool:
    return bool(policy.role_field_groups(user)) and user.agency_id is not None


def _date(value) -> str:
    return value.isoformat() if value else ""


def _case_rows(user: User, filters: dict):
    from streha.cases.models import ExploitationType, Source, Status

    cases = policy.cases_visible_to(user).select_related("owner_agency", "person")
    if filters.get("status") in Status.values:
        cases = cases.filter(status=filters["status"])
    if filters.get("source") in Source.values:
        cases = cases.filter(source=filters["source"])
    wanted_type = filters.get("exploitation_type")
    named: list = []
    header = [
        _("Reference"),
        _("Stage"),
        _("Source"),
        _("Date of first contact"),
        _("Agency"),
        _("Person"),
        _("Given name"),
        _("Family name"),
    ]

    def rows():
        for case in cases.order_by("-opened_at", "-pk").iterator(chunk_size=500):
            if wanted_type in ExploitationType.values and wanted_type not in (
                case.exploitation_types or []
            ):
                continue
            person = case.person
            identity = "identity" in policy.person_access(user, person).field_groups
            if identity:
                named.append(person)
            yield [
                case.reference,
                choice_label(case, "status"),
                choice_label(case, "source"),
                _date(case.first_contact_on),
                str(case.owner_agency),
                person.reference,
                # Decrypted only when the file is written (counting rows decrypts nothing).
                (lambda p=person: p.given_name) if identity else "",
                (lambda p=person: p.family_name) if identity else "",
            ]

    return header, rows(), named


def _task_rows(user: User, filters: dict):
    from streha.cases.selectors import tasks_for

    header = [_("Due"), _("Task"), _("Case"), _("Assigned to")]
    tasks = tasks_for(user).select_related("assignee")
    rows = (
        [
            _date(task.due_on),
            choice_label(task, "kind"),
            task.case.reference,
            task.assignee.username if task.assignee else "",
        ]
        for task in tasks.iterator(chunk_size=500)
    )
    return header, rows, []


def _referral_rows(user: User, filters: dict):
    from streha.cases.selectors import inbox

    referrals = inbox(user, status=filters.get("status", "")).paginator.object_list
    header = [_("Sent"), _("From"), _("Case"), _("Status"), _("Answer due")]
    rows = (
        [
            _date(referral.sent_at.date()),
            str(referral.from_agency),
            # The receiving agency learns the case only once it may open it.
            referral.case.reference if policy.referral_reveals_case(user, referral) else "",
            choice_label(referral, "status"),
            _date(referral.answer_due_on),
        ]
        for referral in referrals.iterator(chunk_size=500)
    )
    return header, rows, []


def _tip_rows(user: User, filters: dict):
    from streha.tips.selectors import queue

    header = [
        _("Received"),
        _("Channel"),
        _("Category"),
        _("Status"),
        _("Municipality"),
        _("A child is involved"),
        _("Someone is in immediate danger"),
        _("Assigned to"),
    ]
    tips = queue(user, status=filters.get("status") or "open")
    rows = (
        [
            _date(tip.received_on),
            choice_label(tip, "channel"),
            choice_label(tip, "category"),
            choice_label(tip, "status"),
            tip.municipality.code if tip.municipality else "",
            _("yes") if tip.child_involved else _("no"),
            _("yes") if tip.immediate_danger else _("no"),
            tip.assigned_agency.name if tip.assigned_agency else "",
        ]
        for tip in tips.iterator(chunk_size=500)
    )
    return header, rows, []


def _audit_rows(user: User, filters: dict):
    from streha.audit import selectors
    from streha.audit.models import Action

    action = filters.get("action", "")
    events = selectors.filter_events(
        selectors.visible_events(user),
        action=action if action in Action.values else "",
        username=filters.get("username", "")[:150],
    ).order_by("-seq")
    header = [
        _("Position"),
        _("When"),
        _("User"),
        _("Agency"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Field groups"),
        _("Purpose"),
    ]
    rows = (
        [
            event.seq,
            event.occurred_at.isoformat(),
            event.actor_username,
            event.agency_code,
            choice_label(event, "action"),
            event.object_type,
            event.object_id,
            ";".join(event.field_groups),
            event.purpose,
        ]
        for event in events.iterator(chunk_size=1000)
    )
    return header, rows, []


def _may_see_tips(user: User) -> bool:
    return policy.is_hotline_operator(user) or policy.tips_visible_to(user).exists()


WORK_LISTS = {
    work_list.name: work_list
    for work_list in (
        WorkList(
            "cases",
            gettext_lazy("Case list"),
            _has_case_role,
            ("status", "source", "exploitation_type"),
            _case_rows,
        ),
        WorkList("tasks", gettext_lazy("Task list"), _has_case_role, (), _task_rows),
        WorkList(
            "referrals", gettext_lazy("Referral inbox"), _has_case_role, ("status",), _referral_rows
        ),
        WorkList("tips", gettext_lazy("Tip queue"), _may_see_tips, ("status",), _tip_rows),
        WorkList(
            "audit",
            gettext_lazy("Audit log"),
            policy.can_audit,
            ("action", "username"),
            _audit_rows,
        ),
    )
}


def lists_for(user: User) -> list[WorkList]:
    return [work_list for work_list in WORK_LISTS.values() if work_list.may_export(user)]


def exports_any(user: User) -> bool:
    """Whether ``user`` may export some list: asked on every page (the navigation), so it
    stops at the first list allowed instead of asking each (the tip queue's asks the database)."""
    return any(work_list.may_export(user) for work_list in WORK_LISTS.values())


def _clean(user: User, name: str, fmt: str, filters: dict) -> tuple[WorkList, dict]:
    work_list = WORK_LISTS.get(name)
    if work_list is None or not work_list.may_export(user):
        raise PermissionDenied(_("You are not allowed to do this."))
    if fmt not in FORMATS:
        raise ValidationError({"format": _("Choose CSV or XLSX.")})
    kept = {key: str(filters.get(key, ""))[:150] for key in work_list.filters if filters.get(key)}
    for key, value in kept.items():
        allowed = _allowed_values(work_list.name, key)
        if allowed is not None and value not in allowed:
            raise ValidationError({key: _("Choose a value from the list.")})
    return work_list, kept


def _allowed_values(list_name: str, key: str) -> set[str] | None:
    """The codes a filter accepts (None: free text, e.g. a username)."""
    from streha.audit.models import Action
    from streha.cases.models import ExploitationType, ReferralStatus, Source, Status
    from streha.tips.models import TipStatus

    table = {
        ("cases", "status"): Status.values,
        ("cases", "source"): Source.values,
        ("cases", "exploitation_type"): ExploitationType.values,
        ("referrals", "status"): ReferralStatus.values,
        ("tips", "status"): [*TipStatus.values, "open"],
        ("audit", "action"): Action.values,
    }
    values = table.get((list_name, key))
    return set(values) if values is not None else None


def _write(header: list, rows, fmt: str) -> tuple[bytes, int]:
    count = 0
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(header)
        for row in rows:
            # A cell starting like a formula would run in a spreadsheet: quote it as text.
            writer.writerow([_no_formula(value) for value in row])
            count += 1
        return ("\ufeff" + out.getvalue()).encode("utf-8"), count
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([_no_formula(value) for value in row])
        count += 1
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), count


def _no_formula(value):
    if callable(value):
        value = value()
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@")):
        return "'" + value
    return value


def _audited(user: User, work_list: WorkList, fmt: str, filters: dict, count: int, named, job=None):
    details = {"list": work_list.name, "format": fmt, "rows": count, "filters": filters}
    if job is not None:
        details["job"] = str(job.public_id)
    audit.record(
        user,
        audit.Action.EXPORT,
        object_type="export",
        object_id=work_list.name,
        purpose=f"export of the {work_list.name} list",
        details=details,
    )
    if named:
        audit.record_many(
            user,
            audit.Action.EXPORT,
            named,
            field_groups=["identity"],
            purpose=f"export of the {work_list.name} list",
        )


def count_rows(user: User, name: str, filters: dict) -> int:
    work_list, kept = _clean(user, name, "csv", filters)
    _header, rows, _named = work_list.rows(user, kept)
    return sum(1 for _row in rows)


def file_name(name: str, fmt: str) -> str:
    return f"streha-{name}-{timezone.localdate().isoformat()}.{FORMATS[fmt][1]}"


def inline_limit() -> int:
    return int(getattr(settings, "STREHA_EXPORT_INLINE_ROWS", 5000))


@transaction.atomic
def export_now(user: User, name: str, fmt: str, filters: dict) -> tuple[bytes, str, str, int]:
    """The file, its name, its content type and its row count; audited."""
    work_list, kept = _clean(user, name, fmt, filters)
    header, rows, named = work_list.rows(user, kept)
    # The rows decrypt names as they are written; the persons named are audited just below,
    # in the same transaction (no file leaves if that fails).
    with read_context.system(f"export of the {work_list.name} list", actor=user):
        content, count = _write(header, rows, fmt)
    _audited(user, work_list, fmt, kept, count, named)
    return content, file_name(name, fmt), FORMATS[fmt][0], count


def request_export(user: User, name: str, fmt: str, filters: dict):
    """Small lists are made now (returns the file); large ones by a job (returns the job)."""
    work_list, kept = _clean(user, name, fmt, filters)
    if count_rows(user, name, kept) <= inline_limit():
        return export_now(user, name, fmt, kept)
    return start_job(JOB_KIND, user, {"list": name, "format": fmt, "filters": kept})


def _may_start(user, params) -> bool:
    work_list = WORK_LISTS.get(params.get("list", ""))
    return work_list is not None and work_list.may_export(user)


@job_kind(
    JOB_KIND,
    label=gettext_lazy("Export of a work list"),
    may_start=_may_start,
    result_url_name="imports:export_download",
)
def run_export(ctx: JobContext) -> dict:
    params = ctx.params
    work_list = WORK_LISTS.get(params.get("list", ""))
    user = ctx.starter(lambda user: work_list is not None and work_list.may_export(user))
    work_list, kept = _clean(user, params["list"], params["format"], params.get("filters", {}))
    header, rows, named = work_list.rows(user, kept)
    total = count_rows(user, work_list.name, kept)
    ctx.progress(0, total)

    def counted():
        for n, row in enumerate(rows, start=1):
            if n % 1000 == 0:
                ctx.raise_if_cancelled()
                ctx.progress(n)
            yield row

    with read_context.system(f"export of the {work_list.name} list", actor=user):
        content, count = _write(header, counted(), params["format"])
    with transaction.atomic():
        ExportFile.objects.create(
            job=ctx.job,
            file_name=file_name(work_list.name, params["format"]),
            content_type=FORMATS[params["format"]][0],
            content=content,
            rows=count,
        )
        _audited(user, work_list, params["format"], kept, count, named, job=ctx.job)
        ctx.progress(count, count)
    return {"rows": count}


@transaction.atomic
def take_export_file(user: User, job) -> ExportFile:
    """The job's file for its starter, deleted as it is handed over (one download)."""
    if job.started_by_id != user.pk:
        raise PermissionDenied(_("You are not allowed to do this."))
    export = ExportFile.objects.select_for_update().filter(job=job).first()
    if export is None:
        raise ValidationError(_("The file was already downloaded or is no longer kept."))
    kept = ExportFile(
        file_name=export.file_name, content_type=export.content_type, rows=export.rows
    )
    # The download is the read of what the file holds: audited before it is decrypted.
    audit.record(
        user,
        audit.Action.EXPORT,
        obj=export,
        purpose="download of an export file",
        details={"job": str(job.public_id), "rows": export.rows},
    )
    kept.content = bytes(export.content)
    export.delete()
    return kept


def purge_export_files(now=None) -> int:
    now = now or timezone.now()
    hours = int(getattr(settings, "STREHA_EXPORT_KEEP_HOURS", 24))
    deleted, _kinds = ExportFile.objects.filter(
        created_at__lt=now - timedelta(hours=hours)
    ).delete()
    return deleted
