"""This app's rows of the authorization matrix (see streha/testing/matrix.py).

The world's inside agency is a shelter (no competent authority for identification). Each
scope has a case (on the scope's person), a referral sent TO the scope's agency by a third
agency, and an open task.
"""

from streha.accounts.models import Role
from streha.cases.tests import matrix_documents
from streha.testing.matrix import CASE, EDIT, REGISTER, P

NONE: set = set()
HTML = {
    "cases:list": P(CASE, path="/cases/"),
    "cases:create": P(REGISTER, NONE, path="/cases/new/{person}/"),
    "cases:detail": P(CASE, NONE, path="/cases/{case}/"),
    "cases:act": P(EDIT, NONE, method="post", path="/cases/{case}/note/", data={"body": "Met."}),
    "cases:inbox": P(CASE, path="/cases/referrals/"),
    "cases:referral": P(CASE, NONE, path="/cases/referrals/{referral}/"),
    "cases:my_work": P(CASE, path="/cases/tasks/"),
    "cases:task_done": P(EDIT, NONE, method="post", path="/cases/tasks/{task}/done/"),
    # Only the owner marks a notification: the inside one is the supervisor's, so every other
    # role answers 404 for it, as everyone does for the outside one.
    "cases:notification_read": P(
        {Role.SUPERVISOR}, NONE, method="post", path="/cases/notifications/{notification}/read/"
    ),
    "cases:notifications_read": P(CASE, method="post", path="/cases/notifications/read/"),
}
INSIDE_403 = {role: 403 for role in CASE - EDIT}
API = {
    ("/api/v1/cases/", "get"): P(set(Role.values)),
    ("/api/v1/cases/", "post"): P(
        REGISTER,
        refused=403,
        data={"person": "{person}", "source": "ngo", "first_contact_on": "2026-01-05"},
    ),
    ("/api/v1/cases/search/", "post"): P(set(Role.values), data={"query": "Outsiderina"}),
    ("/api/v1/cases/{public_id}/", "get"): P(CASE, NONE, path="/api/v1/cases/{case}/"),
    ("/api/v1/cases/{public_id}/timeline/", "get"): P(
        CASE, NONE, path="/api/v1/cases/{case}/timeline/"
    ),
    ("/api/v1/cases/{public_id}/transition/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/transition/",
        data={
            "action": "close",
            "expected_version": 1,
            "reason": "-",
        },  # 400 (too short) once past policy
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/cases/{public_id}/refer/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/refer/",
        data={"to_agency": "{third_agency}", "field_groups": []},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/referrals/", "get"): P(set(Role.values)),
    ("/api/v1/referrals/{public_id}/", "get"): P(CASE, NONE, path="/api/v1/referrals/{referral}/"),
    ("/api/v1/referrals/{public_id}/answer/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/referrals/{referral}/answer/",
        data={"status": "accepted"},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/case-tasks/", "get"): P(set(Role.values)),
    ("/api/v1/cases/{public_id}/consents/", "get"): P(
        CASE, NONE, path="/api/v1/cases/{case}/consents/"
    ),
    ("/api/v1/cases/{public_id}/consents/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/consents/",
        data={"purpose": "information_sharing", "given": True},
        refused_inside=INSIDE_403,
    ),
    # Versioned writes: data invalid once past the policy (400), so that one role's success
    # does not turn the next role's try into a 409.
    ("/api/v1/cases/{public_id}/best-interests/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/best-interests/",
        data={"expected_version": 1, "determined_on": "not a date"},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/cases/{public_id}/profile/", "patch"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/profile/",
        data={"expected_version": 1, "recruitment_countries": ["ZZ"]},
        refused_inside=INSIDE_403,
    ),
    # Supervisors assign (one success: the inside colleague); other editors are refused by
    # the policy, roles without edit rights before it.
    ("/api/v1/cases/{public_id}/assign/", "post"): P(
        {Role.SUPERVISOR},
        NONE,
        path="/api/v1/cases/{case}/assign/",
        data={"expected_version": 1, "user_id": "{user}"},
        refused_inside={role: 403 for role in CASE - {Role.SUPERVISOR}},
    ),
    # Steps of the registry with addresses of their own (input invalid once past the policy).
    ("/api/v1/cases/{public_id}/services/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/services/",
        data={"expected_version": 1, "kind": "no such service"},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/cases/{public_id}/service-status/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/service-status/",
        data={"expected_version": 1, "service": 0, "status": "done"},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/cases/{public_id}/notes/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/cases/{case}/notes/",
        data={"body": ""},
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/case-tasks/{id}/done/", "post"): P(
        EDIT,
        NONE,
        path="/api/v1/case-tasks/{task}/done/",
        refused_inside=INSIDE_403,
    ),
    ("/api/v1/case-notifications/", "get"): P(set(Role.values)),
    ("/api/v1/case-notifications/{id}/read/", "post"): P(
        {Role.SUPERVISOR}, NONE, path="/api/v1/case-notifications/{notification}/read/"
    ),
    ("/api/v1/case-notifications/read-all/", "post"): P(set(Role.values)),
}
HTML.update(matrix_documents.HTML)
API.update(matrix_documents.API)


def extend_world(world: dict) -> None:
    from django.utils import timezone

    from streha.accounts.models import Agency, AgencyKind
    from streha.cases.models import Notification, Referral, Task, TaskKind
    from streha.cases.tests.factories import CaseFactory
    from streha.testing.factories import PersonFactory

    third = Agency.objects.create(code="third", name="Third", kind=AgencyKind.SOCIAL_WORK)
    # A notification of the inside supervisor, and one of an outside case worker.
    owners = {
        "in": world["users"][Role.SUPERVISOR],
        "out": world["outside_users"]["case_worker"],
    }
    for scope in ("in", "out"):
        agency = world["agencies"][scope]
        case = CaseFactory(owner_agency=agency, person=world["persons"][scope])
        # A referral to this scope's agency, about a case of the third agency.
        third_case = CaseFactory(owner_agency=third, person=PersonFactory(owner_agency=third))
        referral = Referral(
            case=third_case,
            from_agency=third,
            to_agency=agency,
            field_groups=["identity"],
            answer_due_on=timezone.localdate(),
        )
        referral.save()
        task = Task.objects.create(
            case=case, agency=agency, kind=TaskKind.PLAN_REVIEW, due_on=timezone.localdate()
        )
        notice = Notification.objects.create(
            user=owners[scope], message="Your agency has received a new referral."
        )
        world[scope].update(
            {
                "notification": notice.pk,
                "case": case.public_id,
                "referral": referral.public_id,
                "task": task.pk,
                "third_agency": third.code,
            }
        )
    matrix_documents.extend_world(world)
