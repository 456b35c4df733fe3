"""This app's rows of the authorization matrix (see streha/testing/matrix.py), and its
sealed-witness column.

The world's inside agency plays police unit, prosecution office and court of the inside
criminal case (its prosecutor handles it); the outside agency those of the outside case. Each
case has a defendant, a linked victim case with an injured party, a witness and an open
deadline. The inside witness is sealed to a person of the inside agency: the sealed-witness
column (``SEALED_ROWS``, checked by ``check_sealed_column``) requires every endpoint to answer
every role the same, byte for byte, whichever person the witness is sealed to.
"""

import re

from streha.accounts.models import Role
from streha.justice.actions import ACTIONS
from streha.testing.matrix import EDIT, EVERYONE, P

NONE: set = set()
JUSTICE = {Role.PROSECUTOR, Role.INVESTIGATOR, Role.COURT_LIAISON, Role.SUPERVISOR}
INV, PROS, CL, SUP = Role.INVESTIGATOR, Role.PROSECUTOR, Role.COURT_LIAISON, Role.SUPERVISOR
WPU = Role.WITNESS_PROTECTION
SEALED_NAME = "Sealedia"
OTHER_NAME = "Otheria"

# Who is offered each step on the inside case (stage: reported; one defendant, one injured
# party, one witness). The supervisor of the office assigns; nobody else sees a step.
STEP_ROLES = {
    "event": {PROS},
    "correct": {INV, PROS, CL},
    "numbers": {INV, PROS, CL},
    "assign": {PROS, SUP},
    "link_victim": {INV, PROS},
    "defendant": {INV, PROS},
    "charge": {INV, PROS, CL},
    "judgment": {CL},
    "confiscation": {INV, PROS, CL},
    "injured_party": {PROS},
    "claim": {PROS},
    "compensation": {PROS},
    "residence_permit": {PROS},
    "interview": {INV, PROS, CL},
    "witness": {PROS},
    "protection_order": {PROS, CL},
}
CASE_PATH = "/api/v1/criminal-cases/{criminal_case}/"

HTML = {
    "justice:list": P(JUSTICE, path="/justice/"),
    "justice:create": P({INV, PROS}, path="/justice/new/"),
    "justice:my_work": P(JUSTICE, path="/justice/tasks/"),
    "justice:deadline_done": P(
        JUSTICE, NONE, method="post", path="/justice/tasks/{deadline}/done/"
    ),
    "justice:offences": P(JUSTICE | {Role.SYSTEM_ADMIN}, path="/justice/offences/"),
    "justice:statistics": P({Role.ANALYST}, path="/justice/statistics/"),
    "justice:witnesses": P({WPU}, path="/justice/witnesses/"),
    "justice:witness_resolve": P({PROS, WPU}, {WPU}, path="/justice/witnesses/{witness}/resolve/"),
    "justice:share": P(EDIT, NONE, path="/justice/share/{case}/"),
    "justice:detail": P(JUSTICE, NONE, path="/justice/{criminal_case}/"),
    "justice:step": P(
        {PROS}, NONE, method="post", path="/justice/{criminal_case}/witness/", data={"kind": "x"}
    ),
}
API = {
    ("/api/v1/criminal-cases/", "get"): P(EVERYONE),
    ("/api/v1/criminal-cases/", "post"): P({INV, PROS}, refused=403, data={"opened_on": "x"}),
    ("/api/v1/criminal-cases/{public_id}/", "get"): P(JUSTICE, NONE, path=CASE_PATH),
    ("/api/v1/criminal-cases/{public_id}/steps/", "get"): P(
        JUSTICE, NONE, path=CASE_PATH + "steps/"
    ),
    ("/api/v1/witnesses/{public_id}/resolve/", "post"): P(
        {PROS, WPU}, {WPU}, path="/api/v1/witnesses/{witness}/resolve/", data={"reason": "short"}
    ),
    ("/api/v1/offences/", "get"): P(EVERYONE),
    ("/api/v1/offences/{id}/", "get"): P(EVERYONE, path="/api/v1/offences/{offence}/"),
    ("/api/v1/justice-deadlines/", "get"): P(EVERYONE),
    ("/api/v1/victim-case-shares/", "post"): P(
        EDIT, NONE, data={"victim_case": "{case}", "office": "nowhere", "field_groups": []}
    ),
    ("/api/v1/statistics/justice-funnel/", "get"): P({Role.ANALYST}),
}
for _name, _roles in STEP_ROLES.items():
    _path = f"/api/v1/criminal-cases/{{public_id}}/{_name.replace('_', '-')}/"
    # An empty body: 400 (or 200 where every field is optional) once the step is offered.
    API[(_path, "post")] = P(_roles, NONE, path=CASE_PATH + f"{_name.replace('_', '-')}/")
assert set(STEP_ROLES) == set(ACTIONS), "every step has its row"

# The sealed-witness column covers this app's rows and the person endpoints.
SEALED_ROWS = [
    *(("html", name) for name in HTML),
    *(("api", op) for op in API),
    ("html", "people:list"),
    ("html", "people:detail"),
    ("api", ("/api/v1/persons/", "get")),
    ("api", ("/api/v1/persons/search/", "post")),
    ("api", ("/api/v1/persons/{public_id}/", "get")),
    ("api", ("/api/v1/pseudonymised-persons/", "get")),
    ("html", "web:home"),
]


def extend_world(world: dict) -> None:
    from datetime import date

    from streha.cases.models import Case
    from streha.justice import services
    from streha.justice.catalogue import load_offences
    from streha.justice.models import ChargeStage, Offence
    from streha.testing.factories import PersonFactory, UserFactory

    load_offences("XK")
    day = date(2025, 3, 3)
    trafficking = Offence.objects.get(key="trafficking", criminal_code__code="06/L-074")
    for scope in ("in", "out"):
        agency = world["agencies"][scope]
        if scope == "in":
            investigator = world["users"][INV]
            prosecutor = world["users"][PROS]
        else:
            investigator = UserFactory(agency=agency, roles=[INV])
            prosecutor = UserFactory(agency=agency, roles=[PROS])
        victim_case = Case.objects.get(public_id=world[scope]["case"])
        case = services.open_case(
            investigator, opened_on=day, prosecution_office=agency, victim_case=victim_case
        )
        case.court = agency
        case.save()
        services.record_event(investigator, case, kind="criminal_report", occurred_on=day)
        case.refresh_from_db()
        services.assign_prosecutor(prosecutor, case, prosecutor=prosecutor.username)
        defendant = services.add_defendant(
            investigator,
            case,
            person_reference=world["persons"][scope].reference,
            roles=["Exploiter"],
            detention="none",
        )
        services.add_charge(
            investigator,
            case,
            defendant=defendant,
            offence=trafficking,
            stage=ChargeStage.REPORT,
            recorded_on=day,
        )
        services.add_injured_party(prosecutor, case, victim_case=victim_case)
        sealed = PersonFactory(
            owner_agency=agency, given_name=SEALED_NAME if scope == "in" else "Outsealed"
        )
        witness = services.add_witness(
            prosecutor, case, kind="cooperative", person_reference=sealed.reference
        )
        deadline = case.deadlines.filter(done_at__isnull=True).first()
        world[scope].update(
            {
                "criminal_case": case.public_id,
                "witness": witness.public_id,
                "deadline": deadline.pk,
                "offence": trafficking.pk,
            }
        )
        if scope == "in":
            world["sealed"] = {
                "witness": witness,
                "other": PersonFactory(owner_agency=agency, given_name=OTHER_NAME),
            }


TOKEN = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def reseal(world, person) -> None:
    from streha.justice.models import WitnessSeal

    witness = world["sealed"]["witness"]
    WitnessSeal.objects.filter(witness=witness).delete()
    if person is not None:
        WitnessSeal.objects.create(witness=witness, person_ref=str(person.public_id))


def normalised(response) -> tuple[int, str]:
    return response.status_code, TOKEN.sub(r"\1-", response.content.decode(errors="replace"))
