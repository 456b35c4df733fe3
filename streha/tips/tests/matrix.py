"""Tip-line rows of the authorization matrix (see streha/testing/matrix.py)."""

from streha.accounts.models import Role
from streha.testing.matrix import ANON, EVERYONE, P
from streha.tips.models import CampaignPage, Tip

PUBLIC = EVERYONE | {ANON}
QUEUE = {Role.HOTLINE_OPERATOR, Role.INVESTIGATOR, Role.CASE_WORKER, Role.SUPERVISOR}
# The world's inside agency is a shelter, so no national-coordinator rights apply there. Its
# hotline operator is a member of the national hotline unit (added by the hotline supervisor,
# who sits elsewhere): a hotline operator who is not a member sees no tip at all.
HTML = {
    "public:learn": P(PUBLIC, path="/learn/"),
    "public:learn_page": P(PUBLIC, path="/learn/{campaign_page}/"),
    "public:report": P(PUBLIC, path="/report/"),
    "public:follow_up": P(PUBLIC, path="/report/follow-up/"),
    "public:help": P(PUBLIC, path="/help/"),
    "tips:queue": P(QUEUE, path="/tips/"),
    "tips:phone": P({Role.HOTLINE_OPERATOR}, path="/tips/phone/"),
    "tips:campaign": P(set(), path="/tips/campaign/"),
    "tips:campaign_edit": P(set(), path="/tips/campaign/{campaign_page}/"),
    # A tip assigned to the inside agency is visible to its case roles; one assigned elsewhere
    # only to the hotline, which sees the whole queue.
    "tips:detail": P(QUEUE, {Role.HOTLINE_OPERATOR}, path="/tips/{tip}/"),
    # The hotline supervisor (a supervisor at the national coordinator's office) only: the
    # world's inside agency is a shelter, so nobody there (test_sealed_tip_line.py: the rest).
    "tips:unit": P(set(), path="/tips/unit/"),
}
API = {
    ("/api/v1/tips/", "get"): P(QUEUE),
    ("/api/v1/tips/", "post"): P(
        {Role.HOTLINE_OPERATOR},
        data={
            "what_seen": "A caller saw children begging for a man.",
            "category": "forced_begging",
        },
        refused=403,
    ),
    ("/api/v1/tips/{public_id}/", "get"): P(
        QUEUE, {Role.HOTLINE_OPERATOR}, path="/api/v1/tips/{tip}/"
    ),
    ("/api/v1/tips/{public_id}/triage/", "post"): P(
        {Role.HOTLINE_OPERATOR},
        {Role.HOTLINE_OPERATOR},
        path="/api/v1/tips/{tip}/triage/",
        # Keeps the tip with its agency, so each role meets the same situation.
        data={"category": "forced_labour", "status": "assigned", "assigned_agency": "{tip_agency}"},
        refused_inside={Role.INVESTIGATOR: 403, Role.CASE_WORKER: 403, Role.SUPERVISOR: 403},
    ),
    ("/api/v1/tips/{public_id}/reply/", "post"): P(
        {Role.HOTLINE_OPERATOR},
        {Role.HOTLINE_OPERATOR},
        path="/api/v1/tips/{tip}/reply/",
        data={"body": "Thank you."},
        refused_inside={Role.INVESTIGATOR: 403, Role.CASE_WORKER: 403, Role.SUPERVISOR: 403},
    ),
    ("/api/v1/tips/{public_id}/convert/", "post"): P(
        {Role.HOTLINE_OPERATOR},
        {Role.HOTLINE_OPERATOR},
        path="/api/v1/tips/{tip}/convert/",
        data={"reference": "KP-2026-0001"},
        refused_inside={Role.INVESTIGATOR: 403, Role.CASE_WORKER: 403, Role.SUPERVISOR: 403},
    ),
}


def extend_world(world: dict) -> None:
    from django.utils import timezone

    from streha.tips import services
    from streha.tips.testing import open_tip_line

    world["in"]["campaign_page"] = world["out"]["campaign_page"] = (
        CampaignPage.objects.order_by("pk").first().slug
    )
    open_tip_line(world["users"][Role.HOTLINE_OPERATOR])
    key = services.current_key()
    for scope in ("in", "out"):
        tip = Tip(
            channel="web",
            received_on=timezone.localdate(),
            assigned_agency=world["agencies"][scope],
        )
        content = {"what_seen": "Seen", "where": "", "when": "", "contact": ""}
        services.seal_report(tip, key, content, contact_may_be_shared=False)
        tip.save()
        world[scope]["tip"] = tip.public_id
        world[scope]["tip_agency"] = world["agencies"][scope].code
