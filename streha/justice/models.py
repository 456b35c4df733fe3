"""Criminal cases of trafficking: offences, proceedings, defendants, victims and witnesses.

Offences are data (``CriminalCode`` and ``Offence``, loaded by ``streha loadoffences XK``), not
enumerations, because codes change and articles are renumbered. A ``CriminalCase`` moves through
dated ``ProceedingEvent`` rows that are never changed: a correction is a new event with a
reason, and the stage is derived from the events (``streha.justice.services.derive_stage``).
A witness appears everywhere under a pseudonym; the person behind it is held, encrypted and
without a foreign key, in ``WitnessSeal``, which only the access policy's resolvers may open.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from streha.protection.fields import ProtectedCharField, ProtectedTextField
from streha.protection.models import ProtectedModel


def dated_record(dated_by: str, name: str) -> type[models.Model]:
    """An abstract base for one kind of dated record of a criminal case or of its injured
    party (a judgment, a confiscation, a compensation, a permit, an interview, a protection
    order): listed by its date ``dated_by``, then in the order recorded, and shown as ``name``
    and its number.

    The ``str`` never shows what the record holds: these records are about victims and
    defendants, and ``str`` reaches the admin, logs and error messages. Abstract, so each
    table stays as it was (a migration flattens an abstract base away).
    """

    class DatedRecord(models.Model):
        class Meta:
            abstract = True
            ordering = [dated_by, "pk"]

        def __str__(self) -> str:
            return f"{name} {self.pk}"

    return DatedRecord


# --- The offence catalogue ------------------------------------------------------------------


class ThbScope(models.TextChoices):
    CORE = "core", _("Core trafficking offence")
    RELATED = "related", _("Related offence")
    NOT_THB = "not_thb", _("Not a trafficking offence")


class CriminalCode(models.Model):
    """One criminal code of a country, in force over a period; a ``series_break`` code starts
    figures that statistics must not compare with earlier years without a flag."""

    country = models.CharField(_("country"), max_length=2)
    code = models.CharField(_("code"), max_length=40, unique=True)
    title = models.CharField(_("title"), max_length=200)
    in_force_from = models.DateField()
    in_force_to = models.DateField(_("in force until"), null=True, blank=True)
    series_break = models.BooleanField(_("break in series"), default=False)
    series_break_note = models.CharField(_("about the break"), max_length=300, blank=True)
    unconfirmed = models.JSONField(_("not confirmed from the official text"), default=list)
    source = models.CharField(_("source"), max_length=300, blank=True)
    edited_locally = models.BooleanField(_("corrected by a legal officer"), default=False)

    class Meta:
        ordering = ["country", "in_force_from"]
        verbose_name = _("criminal code")
        verbose_name_plural = _("criminal codes")

    def __str__(self) -> str:
        return self.code


class Offence(models.Model):
    """An article of a criminal code, with its prescribed penalty in months of imprisonment.

    ``key`` names the same offence across codes (trafficking is Art. 171 of 04/L-082 and
    Art. 165 of 06/L-074). ``unconfirmed`` lists the fields not read in the official text.
    """

    criminal_code = models.ForeignKey(
        CriminalCode, on_delete=models.PROTECT, related_name="offences", verbose_name=_("code")
    )
    key = models.SlugField(_("offence"), max_length=60)
    article = models.CharField(_("article"), max_length=10)
    paragraph = models.CharField(_("paragraph"), max_length=10, blank=True)
    title_sq = models.CharField(_("title (Albanian)"), max_length=200)
    title_sr = models.CharField(_("title (Serbian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    scope = models.CharField(_("scope"), max_length=10, choices=ThbScope.choices)
    iccs = models.CharField(_("ICCS code"), max_length=10, blank=True)
    min_months = models.PositiveSmallIntegerField(_("minimum (months)"), null=True, blank=True)
    max_months = models.PositiveSmallIntegerField(_("maximum (months)"), null=True, blank=True)
    fine = models.BooleanField(_("fine prescribed"), default=False)
    valid_from = models.DateField()
    valid_to = models.DateField(_("valid until"), null=True, blank=True)
    unconfirmed = models.JSONField(_("not confirmed from the official text"), default=list)
    source = models.CharField(_("source"), max_length=300, blank=True)
    edited_locally = models.BooleanField(_("corrected by a legal officer"), default=False)

    class Meta:
        ordering = ["criminal_code__in_force_from", "key"]
        verbose_name = _("offence")
        verbose_name_plural = _("offences")
        constraints = [
            models.UniqueConstraint(
                fields=["criminal_code", "article", "paragraph"], name="offence_article"
            )
        ]

    def __str__(self) -> str:
        return f"{self.citation} {self.title}"

    @property
    def citation(self) -> str:
        paragraph = f".{self.paragraph}" if self.paragraph else ""
        return f"{self.criminal_code.code} Art. {self.article}{paragraph}"

    @property
    def title(self) -> str:
        language = (get_language() or "sq").lower()
        if language.startswith("sr"):
            return self.title_sr
        if language.startswith("en"):
            return self.title_en
        return self.title_sq

    @property
    def is_confirmed(self) -> bool:
        return not self.unconfirmed


# --- The criminal case and its proceedings --------------------------------------------------


class EventKind(models.TextChoices):
    POLICE_CASE_OPENED = "police_case_opened", _("Police case opened")
    CRIMINAL_REPORT = "criminal_report", _("Criminal report sent to the prosecutor")
    SPECIAL_REPORT = "special_report", _("Special report sent to the prosecutor")
    INVESTIGATION_INITIATED = "investigation_initiated", _("Investigation initiated")
    INVESTIGATION_SUSPENDED = "investigation_suspended", _("Investigation suspended")
    INVESTIGATION_TERMINATED = "investigation_terminated", _("Investigation terminated")
    CHARGES_DISMISSED = "charges_dismissed", _("Criminal report dismissed")
    INDICTMENT_FILED = "indictment_filed", _("Indictment filed")
    INDICTMENT_CONFIRMED = "indictment_confirmed", _("Indictment confirmed")
    INDICTMENT_DISMISSED = "indictment_dismissed", _("Indictment dismissed")
    PLEA_AGREEMENT = "plea_agreement", _("Plea agreement")
    MAIN_TRIAL = "main_trial", _("Main trial opened")
    FIRST_INSTANCE_JUDGMENT = "first_instance_judgment", _("First-instance judgment")
    APPEAL_FILED = "appeal_filed", _("Appeal filed")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")
    RETRIAL_ORDERED = "retrial_ordered", _("Retrial ordered")
    FINAL = "final", _("Judgment final")
    EXTRAORDINARY_REMEDY = "extraordinary_remedy", _("Extraordinary legal remedy")


class Stage(models.TextChoices):
    """Where a case stands, derived from its latest effective event."""

    POLICE = "police", _("Police investigation")
    REPORTED = "reported", _("Reported to the prosecutor")
    INVESTIGATION = "investigation", _("Prosecution investigation")
    SUSPENDED = "suspended", _("Investigation suspended")
    DISCONTINUED = "discontinued", _("Discontinued before indictment")
    INDICTED = "indicted", _("Indicted")
    INDICTMENT_DISMISSED = "indictment_dismissed", _("Indictment dismissed")
    TRIAL = "trial", _("At trial")
    JUDGED = "judged", _("First-instance judgment")
    APPEAL = "appeal", _("On appeal")
    FINAL = "final", _("Final")


def _list_indexes(field: str, short: str) -> list[models.Index]:
    """The list reads each scope part (cases of one agency column) newest first through one
    of these, whatever the filter, so a page costs the same at 30 or 30,000 cases: plain, by
    stage, and only the rare downgraded or below-minimum cases."""
    return [
        models.Index(fields=[field, "opened_on", "id"], name=f"crim_{short}_opened"),
        models.Index(fields=[field, "stage", "opened_on", "id"], name=f"crim_{short}_stage"),
        models.Index(
            fields=[field, "opened_on", "id"],
            condition=Q(reclassified=True),
            name=f"crim_{short}_reclassified",
        ),
        models.Index(
            fields=[field, "opened_on", "id"],
            condition=Q(below_minimum=True),
            name=f"crim_{short}_below_min",
        ),
    ]


class CriminalCase(ProtectedModel):
    """One criminal proceeding, known by the police, prosecution and court by their numbers."""

    FIELD_GROUPS = {"investigation": ("summary",)}

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=32, unique=True)
    police_agency = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    police_number = models.CharField(max_length=60, blank=True)
    prosecution_office = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    prosecution_number = models.CharField(max_length=60, blank=True)
    court = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    court_number = models.CharField(max_length=60, blank=True)
    prosecutor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    victim_cases = models.ManyToManyField("cases.Case", related_name="criminal_cases", blank=True)
    summary = ProtectedTextField(blank=True)
    # Derived from the events by the services; kept here for lists and filters.
    stage = models.CharField(max_length=30, choices=Stage.choices, default=Stage.POLICE)
    stage_on = models.DateField(null=True, blank=True)
    opened_on = models.DateField()
    reclassified = models.BooleanField(default=False)
    below_minimum = models.BooleanField(default=False)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Per-case contribution to the attrition funnel, {"agencies": [...], "counts": {...}}, kept
    # by ``services.refresh_derived``; NULL until the case is counted (the funnel recounts those).
    figures = models.JSONField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-opened_on", "-pk"]
        indexes = [
            *_list_indexes("prosecution_office", "office"),
            *_list_indexes("police_agency", "police"),
            *_list_indexes("court", "court"),
            models.Index(fields=["stage", "-opened_on"], name="crim_stage_opened"),
            models.Index(fields=["id"], condition=Q(figures__isnull=True), name="crim_uncounted"),
        ]

    def __str__(self) -> str:
        return self.reference


class AppendOnly(Exception):
    """A proceeding event was about to be changed or deleted; record a correction instead."""


class ProceedingEvent(ProtectedModel):
    """A dated step of the proceedings, on a document. Never changed: a correction is a new
    event that names the one it corrects (``corrects``) and why; ``withdrawn`` corrections
    remove the corrected event from the derived stage without replacing it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    occurred_on = models.DateField()
    document = models.CharField(max_length=100, blank=True)
    agency = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    defendant = models.ForeignKey(
        "Defendant", on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    note = ProtectedTextField(blank=True)
    corrects = models.ForeignKey(
        "self", on_delete=models.RESTRICT, null=True, blank=True, related_name="corrections"
    )
    withdrawn = models.BooleanField(default=False)
    reason = ProtectedTextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_on", "pk"]
        indexes = [
            models.Index(fields=["case", "occurred_on"], name="proceeding_case_date"),
            # The latest events on a justice home page: walked newest first and probed against
            # the agency's cases, not every event of an agency that holds most cases sorted.
            models.Index(fields=["-recorded_at", "-id"], name="proceeding_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnly("Proceeding events are never changed; record a correction.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Proceeding events are never deleted; record a correction.")


# --- Defendants, charges, judgments, sentences, confiscation ----------------------------------


class RoleInProcess(models.TextChoices):
    """HTCDS v2.0 ``per_RoleInProcess``."""

    TRAVELLING_PARTNER = "TravellingPartner", _("Travelling partner")
    TRANSPORTER = "Transporter", _("Transporter")
    RECRUITER = "RecruiterOrIntermediary", _("Recruiter or intermediary")
    BROKER = "BrokerTravelAgent", _("Broker or travel agent")
    TRANSFERRED = "TransferredIndividual", _("Transferred the person")
    HARBOURED = "HarbouredIndividual", _("Harboured the person")
    SOLD = "SoldIndividual", _("Sold the person")
    BOUGHT = "BoughtIndividual", _("Bought the person")
    RECEIVED = "ReceivedIndividual", _("Received the person")
    CONTROLLED = "ControlledIndividual", _("Controlled the person")
    SMUGGLER = "Smuggler", _("Smuggler")
    ABUSER = "Abuser", _("Abuser")
    KIDNAPPER = "Kidnapper", _("Kidnapper")
    EXPLOITER = "Exploiter", _("Exploiter")
    OTHER = "Other", _("Other")


class Detention(models.TextChoices):
    NONE = "none", _("None")
    DETENTION_ON_REMAND = "detention_on_remand", _("Detention on remand")
    HOUSE_ARREST = "house_arrest", _("House arrest")
    BAIL = "bail", _("Bail")
    REPORTING = "reporting", _("Reporting to the police")
    RESTRAINING_ORDER = "restraining_order", _("Order to stay away from the victim")


class DefendantStatus(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    ACCUSED = "accused", _("Accused")
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")


class Defendant(ProtectedModel):
    """A suspect, then accused, then perhaps convicted person of the case. The person's
    identity stays in the person record; the case shows the defendant's label."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="defendants")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=40)
    roles = models.JSONField(default=list, blank=True)
    detention = models.CharField(max_length=30, choices=Detention.choices, default=Detention.NONE)
    public_official = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=DefendantStatus.choices, default=DefendantStatus.SUSPECT
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.label


class ChargeStage(models.TextChoices):
    REPORT = "report", _("Criminal report")
    INDICTMENT = "indictment", _("Indictment")
    JUDGMENT = "judgment", _("Judgment")


class Charge(models.Model):
    """An offence a defendant is charged with at a stage. A reclassification is a new charge
    that ``replaces`` the earlier one, which stays on record."""

    defendant = models.ForeignKey(Defendant, on_delete=models.CASCADE, related_name="charges")
    offence = models.ForeignKey(Offence, on_delete=models.PROTECT, related_name="charges")
    counts = models.PositiveSmallIntegerField(default=1)
    stage = models.CharField(max_length=12, choices=ChargeStage.choices)
    victim_cases = models.ManyToManyField("cases.Case", related_name="+", blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="replaced_by",
    )
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"charge {self.pk}"

    @property
    def downgrades(self) -> bool:
        """A core trafficking charge replaced by a charge outside the core."""
        return bool(
            self.replaces_id
            and self.replaces.offence.scope == ThbScope.CORE
            and self.offence.scope != ThbScope.CORE
        )


class Instance(models.TextChoices):
    FIRST = "first", _("First instance")
    APPEAL = "appeal", _("Court of Appeals")
    SUPREME = "supreme", _("Supreme Court")


class Outcome(models.TextChoices):
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")
    REJECTED = "rejected", _("Charge rejected")
    PARTLY = "partly", _("Partly convicted")


class Judgment(dated_record("decided_on", "judgment")):
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="judgments")
    defendant = models.ForeignKey(Defendant, on_delete=models.CASCADE, related_name="judgments")
    instance = models.CharField(max_length=10, choices=Instance.choices)
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    decided_on = models.DateField()
    final = models.BooleanField(default=False)
    document = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )


class SentenceKind(models.TextChoices):
    IMPRISONMENT = "imprisonment", _("Imprisonment")
    FINE = "fine", _("Fine")
    SUSPENDED = "suspended", _("Suspended sentence")
    COMMUNITY_SERVICE = "community_service", _("Community service")
    JUDICIAL_ADMONITION = "judicial_admonition", _("Judicial admonition")


class Sentence(models.Model):
    judgment = models.ForeignKey(Judgment, on_delete=models.CASCADE, related_name="sentences")
    kind = models.CharField(max_length=20, choices=SentenceKind.choices)
    months = models.PositiveSmallIntegerField(null=True, blank=True)
    fine_eur = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Computed from the catalogue when the sentence is recorded (services.below_minimum).
    below_minimum = models.BooleanField(default=False)
    minimum_months = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sentence {self.pk}"


class ConfiscationStage(models.TextChoices):
    SEIZED = "seized", _("Seized")
    CONFISCATED = "confiscated", _("Confiscated")


class AssetKind(models.TextChoices):
    CASH = "cash", _("Cash")
    BANK_ACCOUNT = "bank_account", _("Bank account")
    REAL_ESTATE = "real_estate", _("Real estate")
    VEHICLE = "vehicle", _("Vehicle")
    BUSINESS = "business", _("Business")
    OTHER = "other", _("Other")


class Confiscation(dated_record("decided_on", "confiscation")):
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="confiscations")
    defendant = models.ForeignKey(
        Defendant, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stage = models.CharField(max_length=12, choices=ConfiscationStage.choices)
    asset = models.CharField(max_length=20, choices=AssetKind.choices)
    value_eur = models.DecimalField(max_digits=12, decimal_places=2)
    decided_on = models.DateField()


# --- Victims: injured parties, compensation, residence, interviews ----------------------------


class ClaimDecision(models.TextChoices):
    PENDING = "pending", _("Not decided yet")
    GRANTED = "granted", _("Granted")
    PARTLY = "partly", _("Partly granted")
    REFERRED = "referred", _("Referred to civil litigation")
    REJECTED = "rejected", _("Rejected")


class InjuredParty(models.Model):
    """A victim (by the victim case) as injured party in the proceedings, with the property
    claim and who represents them."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="injured_parties")
    victim_case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=40)
    represented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="represented_parties",
    )
    claim_filed = models.BooleanField(default=False)
    amount_claimed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    decision = models.CharField(
        max_length=10, choices=ClaimDecision.choices, default=ClaimDecision.PENDING
    )
    amount_awarded = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "victim_case"], name="one_injured_party")
        ]

    def __str__(self) -> str:
        return self.label


class CompensationDecision(models.TextChoices):
    PENDING = "pending", _("Not decided yet")
    GRANTED = "granted", _("Granted")
    REJECTED = "rejected", _("Rejected")


class StateCompensation(dated_record("applied_on", "compensation")):
    """An application to the crime victim compensation programme (Law No. 05/L-036)."""

    injured_party = models.ForeignKey(
        InjuredParty, on_delete=models.CASCADE, related_name="state_compensations"
    )
    applied_on = models.DateField()
    decision = models.CharField(
        max_length=10,
        choices=CompensationDecision.choices,
        default=CompensationDecision.PENDING,
    )
    decided_on = models.DateField(null=True, blank=True)
    amount_eur = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField(null=True, blank=True)
    appeal_filed_on = models.DateField(null=True, blank=True)


class PermitGround(models.TextChoices):
    PERSONAL_SITUATION = "personal_situation", _("The victim's personal situation")
    COOPERATION = "cooperation", _("Cooperation with the authorities")


class PermitStatus(models.TextChoices):
    ISSUED = "issued", _("Issued")
    RENEWED = "renewed", _("Renewed")
    REFUSED = "refused", _("Refused")


class ResidencePermit(dated_record("decided_on", "permit")):
    """A residence permit decision for a foreign victim (Law No. 04/L-218)."""

    injured_party = models.ForeignKey(
        InjuredParty, on_delete=models.CASCADE, related_name="residence_permits"
    )
    ground = models.CharField(max_length=20, choices=PermitGround.choices)
    status = models.CharField(max_length=10, choices=PermitStatus.choices)
    decided_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)


class InterviewBody(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTION = "prosecution", _("Prosecution")
    COURT = "court", _("Court")
    OTHER = "other", _("Other")


class VictimInterview(dated_record("interviewed_on", "interview")):
    """One interview of a victim, so that interviews per victim can be kept few and counted."""

    injured_party = models.ForeignKey(
        InjuredParty, on_delete=models.CASCADE, related_name="interviews"
    )
    interviewed_on = models.DateField()
    body = models.CharField(max_length=12, choices=InterviewBody.choices)
    video_recorded = models.BooleanField(default=False)


# --- Witnesses -------------------------------------------------------------------------------


class WitnessKind(models.TextChoices):
    ORDINARY = "ordinary", _("Witness")
    COOPERATIVE = "cooperative", _("Cooperative witness")
    INJURED_PARTY = "injured_party", _("Injured party as witness")
    EXPERT = "expert", _("Expert witness")


class Witness(models.Model):
    """A witness of the case, known everywhere by the pseudonym only."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="witnesses")
    pseudonym = models.CharField(max_length=40)
    kind = models.CharField(max_length=20, choices=WitnessKind.choices)
    added_on = models.DateField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "pseudonym"], name="witness_pseudonym")
        ]

    def __str__(self) -> str:
        return self.pseudonym


class WitnessSeal(ProtectedModel):
    """The sealed link from a pseudonym to a person: the person's public id, encrypted, and no
    foreign key, so no query, join, export or cascade can reveal that the person is a witness.
    Opened only by ``services.resolve_witness`` for the policy's resolvers."""

    witness = models.OneToOneField(Witness, on_delete=models.CASCADE, related_name="seal")
    person_ref = ProtectedCharField(max_length=36)

    def __str__(self) -> str:
        return f"seal {self.pk}"


class WitnessResolution(ProtectedModel):
    """A resolution of a pseudonym to the person, with its reason (also in the audit log)."""

    witness = models.ForeignKey(Witness, on_delete=models.CASCADE, related_name="resolutions")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(auto_now_add=True)
    reason = ProtectedTextField()

    class Meta:
        ordering = ["-resolved_at", "-pk"]

    def __str__(self) -> str:
        return f"resolution {self.pk}"


class Measure(models.TextChoices):
    PSEUDONYM = "pseudonym", _("Pseudonym")
    WITHHOLD_NAME_ADDRESS = "withhold_name_address", _("Name and address withheld")
    DISTORTION = "distortion", _("Face or voice distortion")
    VIDEO_LINK = "video_link", _("Video link or separate room")
    CLOSED_SESSION = "closed_session", _("Closed session")
    SEALED_RECORDS = "sealed_records", _("Sealed records")
    NON_DISCLOSURE = "non_disclosure", _("Non-disclosure until a date")
    ANONYMITY = "anonymity", _("Full anonymity")
    PROTECTION_PROGRAMME = "protection_programme", _("Admission to the protection programme")


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    IN_FORCE = "in_force", _("In force")
    REFUSED = "refused", _("Refused")
    ENDED = "ended", _("Ended")


class ProtectionOrder(dated_record("ordered_on", "order")):
    """A protective measure ordered by a judge for a witness."""

    witness = models.ForeignKey(Witness, on_delete=models.CASCADE, related_name="orders")
    measures = models.JSONField(default=list)
    judge = models.CharField(max_length=120)
    legal_basis = models.CharField(max_length=120)
    ordered_on = models.DateField()
    until = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=OrderStatus.choices)


# --- Sharing a victim case with the prosecution; deadlines ------------------------------------


class VictimCaseShare(models.Model):
    """The victim case's owner shares some field groups with a prosecution office (like a
    referral): the office then sees the victim through exactly those groups."""

    victim_case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="prosecution_shares"
    )
    office = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    field_groups = models.JSONField(default=list)
    grant = models.ForeignKey(
        "access.AccessGrant", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    shared_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-shared_at", "-pk"]

    def __str__(self) -> str:
        return f"share {self.pk}"


class DeadlineKind(models.TextChoices):
    DECIDE_ON_REPORT = "decide_on_report", _("Decide on the criminal report")
    INVESTIGATION_LIMIT = "investigation_limit", _("Investigation time limit")
    SUSPENSION_REVIEW = "suspension_review", _("Review the suspended investigation")
    INDICTMENT_REVIEW = "indictment_review", _("Indictment to be confirmed")
    APPEAL_WINDOW = "appeal_window", _("Decide whether to appeal")


class Deadline(models.Model):
    """A procedural deadline of a criminal case, shown in "my work" of the office."""

    case = models.ForeignKey(CriminalCase, on_delete=models.CASCADE, related_name="deadlines")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=DeadlineKind.choices)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["agency", "done_at", "due_on"], name="deadline_agency_due")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.case_id}"


# --- The attrition funnel, counted as events are recorded -------------------------------------


class FunnelFigure(models.Model):
    """One figure of the attrition funnel: ``metric`` in ``year`` for the cases of ``agency``
    (their police unit or prosecution office), or of the whole country when ``agency`` is
    empty. Kept by ``services.refresh_derived`` in the transaction of every event that changes
    it, from each case's own contribution (``CriminalCase.figures``), so the funnel reads a
    few rows instead of counting every case; ``streha rebuild_justice_figures`` recounts."""

    agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField()
    metric = models.CharField(max_length=60)
    n = models.IntegerField(default=0)

    class Meta:
        ordering = ["year", "metric", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "year", "metric"],
                condition=Q(agency__isnull=False),
                name="funnel_figure_agency",
            ),
            models.UniqueConstraint(
                fields=["year", "metric"],
                condition=Q(agency__isnull=True),
                name="funnel_figure_national",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}:{self.metric}={self.n}"
