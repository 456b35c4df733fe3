"""Victim cases following the National Referral Mechanism (NRM).

A ``Case`` is one person's path through the NRM: first contact, screening against recognised
indicators, presumed victim (with the recovery and reflection period), formal identification,
assistance plan, referrals between agencies, return or reintegration, closure. Its ``status``
is changed only by ``streha.cases.services`` (the state machine); every change is a
``CaseEvent``. Free text that may identify someone (reasons, notes, places) is protected
(encrypted at rest); enumerations and dates used for statistics and work lists are not.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from streha.protection.fields import (
    ProtectedBinaryField,
    ProtectedCharField,
    ProtectedTextField,
)
from streha.protection.models import ProtectedModel


class Status(models.TextChoices):
    FIRST_CONTACT = "first_contact", _("First contact")
    SCREENED = "screened", _("Screened")
    PRESUMED_VICTIM = "presumed_victim", _("Presumed victim")
    IDENTIFIED = "identified", _("Identified victim")
    NOT_IDENTIFIED = "not_identified", _("Not identified")
    ASSISTANCE = "assistance", _("Assistance plan")
    RETURN_REINTEGRATION = "return_reintegration", _("Return or reintegration")
    CLOSED = "closed", _("Closed")


class Source(models.TextChoices):
    POLICE = "police", _("Police")
    NGO = "ngo", _("NGO")
    HOTLINE = "hotline", _("Hotline tip")
    LABOUR_INSPECTORATE = "labour_inspectorate", _("Labour inspectorate")
    SOCIAL_WORK = "social_work", _("Social work")
    HEALTH = "health", _("Health")
    SELF = "self", _("Self-referral")
    CONSULATE = "consulate", _("Consulate")
    FOREIGN_AUTHORITY = "foreign_authority", _("Foreign authority")
    INTERNATIONAL_ORGANISATION = "international_organisation", _("International organisation")


class ExploitationType(models.TextChoices):
    """HTCDS v2.0 ``vic_TypeOfExploitation`` value names, plus forced criminality (not in
    HTCDS; named in the same style) as the NRM asks for it."""

    SEXUAL = "SexualExploitation", _("Sexual exploitation")
    FORCED_LABOUR = "ForcedLabour", _("Forced labour")
    FORCED_BEGGING = "ForcedBegging", _("Forced begging")
    FORCED_CRIMINALITY = "ForcedCriminality", _("Forced criminality")
    SERVITUDE = "Servitude", _("Domestic servitude")
    FORCED_MARRIAGE = "ForcedMarriage", _("Forced marriage")
    ORGAN_REMOVAL = "OrganRemoval", _("Organ removal")
    OTHER = "Other", _("Other")


class ExploitationPlace(models.TextChoices):
    PRIVATE_HOME = "private_home", _("Private home")
    NIGHTCLUB_BAR = "nightclub_bar", _("Nightclub or bar")
    MASSAGE_PARLOUR = "massage_parlour", _("Massage parlour")
    HOTEL = "hotel", _("Hotel")
    STREET = "street", _("Street")
    AGRICULTURE = "agriculture", _("Agriculture")
    CONSTRUCTION = "construction", _("Construction")
    ONLINE = "online", _("Online")
    OTHER = "other", _("Other")


class RecruitmentMethod(models.TextChoices):
    """HTCDS v2.0 ``vic_MethodOfRecruitment``."""

    PLACE_OF_BUSINESS = "AtAPlaceOfBusiness", _("At a place of business")
    EDUCATIONAL_INSTITUTION = "AtAnEducationalInstitution", _("At an educational institution")
    AT_WORK = "AtWork", _("At work")
    ONLINE_SOCIAL = "ThroughOnlineSocialNetworks", _("Through online social networks")
    ONLINE_ADVERT = "ThroughAnOnlineAdvertisement", _("Through an online advertisement")
    TV_ADVERT = "ThroughATelevisionAdvert", _("Through a television advert")
    NEWSPAPER_ADVERT = "ThroughANewspaperAdvert", _("Through a newspaper advert")
    FAMILY = "ThroughFamilyOrFamilyEvents", _("Through family or family events")
    FRIENDS = "ThroughFriendsOrSocialEvents", _("Through friends or social events")
    OTHER = "Other", _("Other")


class ControlMethod(models.TextChoices):
    """HTCDS v2.0 ``vic_MethodsOfControl``."""

    PHYSICAL_THREATS = "PhysicalThreats", _("Physical threats")
    THREATS_LAW_ENFORCEMENT = "ThreatsLawEnforcement", _("Threats of law enforcement")
    THREATENS_FAMILY = "ThreatensChildrenFamily", _("Threatens children/family")
    DEBT_BONDAGE = "DebtBondage", _("Debt bondage")
    FALSE_PROMISES = "FalsePromises", _("False promises")
    PHYSICAL_ABUSE = "PhysicalAbuse", _("Physical abuse")
    SEXUAL_ABUSE = "SexualAbuse", _("Sexual abuse")
    TAKES_EARNINGS = "TakesEarnings", _("Takes earnings")
    RESTRICTS_FINANCIAL = "RestrictsFinancialAccess", _("Restricts financial access")
    RESTRICTS_MEDICAL = "RestrictsMedicalCare", _("Restricts medical care")
    WITHHOLDS_NECESSITIES = "WithholdsNecessities", _("Withholds necessities")
    PSYCHOLOGICAL_ABUSE = "PsychologicalAbuse", _("Psychological abuse")
    PSYCHOACTIVE = "PsychoactiveSubstance", _("Psychoactive substance")
    EXCESSIVE_HOURS = "ExcessiveWorkingHours", _("Excessive working hours")
    WITHHOLDS_DOCUMENTS = "WithholdsDocuments", _("Withholds documents")
    OTHER = "Other", _("Other")


class ForcedLabourIndustry(models.TextChoices):
    """HTCDS v2.0 ``vic_ForcedLabourIndustry``: the sections of ISIC Rev. 4."""

    AGRICULTURE = "A_AgricultureForestryAndFishing", _("Agriculture, forestry and fishing")
    MINING = "B_MiningAndQuarrying", _("Mining and quarrying")
    MANUFACTURING = "C_Manufacturing", _("Manufacturing")
    ENERGY = (
        "D_ElectricityGasSteamAndAirConditioningSupply",
        _("Electricity, gas, steam and air conditioning supply"),
    )
    WATER = (
        "E_WaterSupplySewerageWasteManagement",
        _("Water supply, sewerage and waste management"),
    )
    CONSTRUCTION = "F_Construction", _("Construction")
    TRADE = (
        "G_WholesaleAndRetailTradeRepairOfMotorVehicles",
        _("Wholesale and retail trade, repair of motor vehicles"),
    )
    TRANSPORT = "H_TransportationAndStorage", _("Transportation and storage")
    ACCOMMODATION = (
        "I_AccommodationAndFoodServiceActivities",
        _("Accommodation and food service activities"),
    )
    INFORMATION = "J_InformationAndCommunication", _("Information and communication")
    FINANCE = "K_FinancialAndInsuranceActivities", _("Financial and insurance activities")
    REAL_ESTATE = "L_RealEstateActivities", _("Real estate activities")
    PROFESSIONAL = (
        "M_ProfessionalScientificAndTechnicalActivities",
        _("Professional, scientific and technical activities"),
    )
    ADMINISTRATIVE = (
        "N_AdministrativeAndSupportServiceActivities",
        _("Administrative and support service activities"),
    )
    PUBLIC_ADMINISTRATION = (
        "O_PublicAdministrationAndDefence",
        _("Public administration and defence"),
    )
    EDUCATION = "P_Education", _("Education")
    HEALTH = "Q_HumanHealthAndSocialWorkActivities", _("Human health and social work activities")
    ARTS = "R_ArtsEntertainmentAndRecreation", _("Arts, entertainment and recreation")
    OTHER_SERVICES = "S_OtherServiceActivities", _("Other service activities")
    HOUSEHOLDS = "T_ActivitiesOfHouseholdsAsEmployers", _("Activities of households as employers")
    EXTRATERRITORIAL = (
        "U_ActivitiesOfExtraterritorialOrganizations",
        _("Activities of extraterritorial organisations"),
    )


class SexExploitationType(models.TextChoices):
    """HTCDS v2.0 ``vic_TypeOfSexExploitation`` (several may apply)."""

    PROSTITUTION = "Prostitution", _("Prostitution")
    PORNOGRAPHY = "Pornography", _("Pornography")
    REMOTE_INTERACTIVE = "RemoteInteractiveServices", _("Remote interactive services")
    PRIVATE_SEXUAL = "PrivateSexualServices", _("Private sexual services")


class RelationshipToTrafficker(models.TextChoices):
    """HTCDS v2.0 ``vic_RelationshipToTrafficker`` (the standard's own spelling kept as the
    value: files that follow it must read back)."""

    FAMILIAL = "Familial", _("Family member")
    ACQUAINTED = "Acquainted", _("Acquaintance")
    UNACQUAINTED = "Unaquainted", _("Stranger")


class DecisionOrganisation(models.TextChoices):
    """HTCDS v2.0 ``vic_TraffickingStatusDecisionMakingOrg``: who decided the status."""

    POLICE = "Police", _("Police")
    NGO = "NGO", _("NGO")
    COURT_OR_PROSECUTION = "CourtOrProsecution", _("Court or prosecution")
    NON_POLICE_GOVERNMENT = (
        "NonPoliceGovernmentalOrganization",
        _("Non-police government body"),
    )
    OTHER = "Other", _("Other")


class ServiceKind(models.TextChoices):
    SAFE_ACCOMMODATION = "safe_accommodation", _("Safe accommodation")
    MEDICAL = "medical", _("Medical care")
    PSYCHOLOGICAL = "psychological", _("Psychological support")
    LEGAL_AID = "legal_aid", _("Legal aid")
    INTERPRETATION = "interpretation", _("Interpretation")
    EDUCATION = "education", _("Education")
    VOCATIONAL_TRAINING = "vocational_training", _("Vocational training")
    FINANCIAL_SUPPORT = "financial_support", _("Financial support")
    FAMILY_TRACING = "family_tracing", _("Family tracing")


class ServiceStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class Disability(models.TextChoices):
    NONE = "none", _("None")
    PHYSICAL = "physical", _("Physical")
    SENSORY = "sensory", _("Sensory")
    INTELLECTUAL = "intellectual", _("Intellectual")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial")
    UNKNOWN = "unknown", _("Unknown")


class CaseQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status=Status.CLOSED)


class Case(ProtectedModel):
    """One person's path through the NRM, owned by the agency that opened it."""

    # Protected fields by field group (the access policy grants groups, never single fields).
    FIELD_GROUPS = {
        "narrative": ("first_contact_place", "decision_reasons", "exploitation_city"),
        "protection": ("guardian", "relationship_to_trafficker"),
        "ethnicity": ("ethnicity",),
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="cases", verbose_name=_("person")
    )
    owner_agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="cases", verbose_name=_("agency")
    )
    status = models.CharField(
        _("stage"), max_length=30, choices=Status.choices, default=Status.FIRST_CONTACT
    )
    status_before_closure = models.CharField(max_length=30, blank=True, editable=False)
    # Optimistic locking: every write bumps it; a write based on an older version is refused.
    version = models.PositiveIntegerField(default=1, editable=False)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Case assignment is a scope of its own: the assigned professional (a victim advocate, a
    # guardian's social worker, possibly of another agency) sees the case and its person.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assigned to"),
    )

    # 1. First contact / referral in
    source = models.CharField(_("source"), max_length=40, choices=Source.choices)
    first_contact_on = models.DateField(_("date of first contact"))
    first_contact_municipality = models.ForeignKey(
        "places.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("municipality of first contact"),
    )
    first_contact_place = ProtectedCharField(
        _("place of first contact"), max_length=200, blank=True
    )
    needs_urgent_shelter = models.BooleanField(_("needs urgent shelter"), default=False)
    needs_urgent_medical = models.BooleanField(_("needs urgent medical care"), default=False)

    # 3. Presumed victim: recovery and reflection period
    presumed_on = models.DateField(_("presumed victim since"), null=True, blank=True)
    reflection_ends_on = models.DateField(_("reflection period ends"), null=True, blank=True)

    # 4. Identification decision
    decided_on = models.DateField(_("identification decided on"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reasons = ProtectedTextField(_("reasons for the decision"), blank=True)
    person_informed_on = models.DateField(
        _("person informed of the decision on"), null=True, blank=True
    )

    # 7. Return or reintegration
    assisted_voluntary_return = models.BooleanField(_("assisted voluntary return"), default=False)
    residence_permit_requested_on = models.DateField(
        _("residence permit requested on"), null=True, blank=True
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True)

    # 8. Closure
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    # Children
    is_child = models.BooleanField(_("child"), default=False)
    age_disputed = models.BooleanField(_("age disputed"), default=False)
    guardian = ProtectedCharField(_("guardian"), max_length=200, blank=True)
    guardian_appointed_on = models.DateField(_("guardian appointed on"), null=True, blank=True)
    best_interests_determined_on = models.DateField(
        _("best-interests determination on"), null=True, blank=True
    )

    # Non-identifying attributes (statistics)
    sex = models.CharField(_("sex"), max_length=30, blank=True)
    age_at_identification = models.PositiveSmallIntegerField(
        _("age at identification"), null=True, blank=True
    )
    citizenship = models.CharField(_("citizenship"), max_length=2, blank=True)
    ethnicity = ProtectedCharField(_("ethnicity"), max_length=100, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    disability = models.CharField(
        _("disability"), max_length=20, choices=Disability.choices, default=Disability.UNKNOWN
    )

    # Exploitation
    exploitation_types = models.JSONField(_("forms of exploitation"), default=list, blank=True)
    exploitation_places = models.JSONField(_("places of exploitation"), default=list, blank=True)
    transnational = models.BooleanField(_("transnational"), null=True, blank=True)
    recruitment_countries = models.JSONField(default=list, blank=True)
    transit_countries = models.JSONField(default=list, blank=True)
    exploitation_countries = models.JSONField(default=list, blank=True)
    recruitment_municipalities = models.JSONField(default=list, blank=True)
    exploitation_municipalities = models.JSONField(default=list, blank=True)
    recruitment_methods = models.JSONField(_("methods of recruitment"), default=list, blank=True)
    control_methods = models.JSONField(_("methods of control"), default=list, blank=True)
    # The other HTCDS v2.0 victim fields. The city of exploitation is a place someone could be
    # found from (narrative, protected); who the trafficker is to the victim points at a person
    # and at the victim's safety (protection, protected); the rest are codes and dates.
    # A list: the standard's table says one value, its XLSForm lets several be chosen.
    forced_labour_industries = models.JSONField(
        _("industries of forced labour"), default=list, blank=True
    )
    sex_exploitation_types = models.JSONField(
        _("forms of sexual exploitation"), default=list, blank=True
    )
    relationship_to_trafficker = ProtectedCharField(
        _("relationship to the trafficker"),
        max_length=20,
        choices=RelationshipToTrafficker.choices,
        blank=True,
        null=True,
    )
    exploitation_city = ProtectedCharField(
        _("city of exploitation"), max_length=100, blank=True, null=True
    )
    trafficked_on = models.DateField(_("date of the trafficking"), null=True, blank=True)
    interview_consent = models.BooleanField(
        _("consented to the interview and the use of the data"), null=True, blank=True
    )
    decision_organisation = models.CharField(
        _("organisation that decided the status"),
        max_length=40,
        choices=DecisionOrganisation.choices,
        blank=True,
    )

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["owner_agency", "-opened_at"], name="case_agency_opened"),
            models.Index(
                fields=["owner_agency", "status", "-opened_at"], name="case_agency_status"
            ),
            # The case list's sortable columns: a page is read in order from the agency's
            # part of the index (the primary key, the tie-breaker, ends every entry), never by
            # sorting all of the agency's cases.
            models.Index(fields=["owner_agency", "reference", "id"], name="case_agency_reference"),
            # Sorting by stage: each stage's cases read in order, stage after stage.
            models.Index(fields=["owner_agency", "status", "id"], name="case_agency_stage"),
            models.Index(
                fields=["owner_agency", "first_contact_on", "id"], name="case_agency_first_contact"
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def needs_guardian(self) -> bool:
        """A child without a guardian is flagged until one is appointed."""
        return self.is_child and self.guardian_appointed_on is None


class CaseEvent(ProtectedModel):
    """One entry of a case's timeline: who did what, when, and why."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=30, blank=True)
    to_status = models.CharField(max_length=30, blank=True)
    reason = ProtectedTextField(_("reason"), blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id}:{self.kind}"


class Questionnaire(models.Model):
    """A versioned screening questionnaire kept as data (ILO, UNODC/IOM indicator sets).

    ``indicators`` is a list of {"code", "text", "strength": "strong"|"medium"}; a result
    recommends "presumed victim" when at least ``strong_needed`` strong indicators are met or
    at least ``total_needed`` indicators in all.
    """

    code = models.SlugField(max_length=60)
    version = models.PositiveSmallIntegerField(default=1)
    title = models.CharField(max_length=200)
    indicators = models.JSONField(default=list)
    strong_needed = models.PositiveSmallIntegerField(default=1)
    total_needed = models.PositiveSmallIntegerField(default=3)
    is_current = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="questionnaire_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class Screening(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="screenings")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    indicators_met = models.JSONField(default=list)
    strong_met = models.PositiveSmallIntegerField(default=0)
    total_met = models.PositiveSmallIntegerField(default=0)
    recommends_presumed = models.BooleanField(default=False)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    screened_at = models.DateTimeField(auto_now_add=True)
    confirmed = models.BooleanField(null=True)  # the person's decision on the recommendation
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-screened_at", "-pk"]

    def __str__(self) -> str:
        return f"screening {self.pk}"


class AssistanceService(models.Model):
    """One service of the individual assistance plan."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="services")
    kind = models.CharField(_("service"), max_length=30, choices=ServiceKind.choices)
    provider = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("provider")
    )
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.PLANNED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_on", "pk"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.case_id}"


class ReferralStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")


class Referral(ProtectedModel):
    """A case referred from one agency to another, with the field groups it shares."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    from_agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(
        "accounts.Agency", on_delete=models.PROTECT, related_name="referrals_in"
    )
    field_groups = models.JSONField(_("shared information"), default=list)
    purpose = ProtectedTextField(_("purpose of the referral"), blank=True)
    status = models.CharField(
        max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.SENT
    )
    answer_reason = ProtectedTextField(_("reason"), blank=True)
    answer_due_on = models.DateField(_("answer due"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    sent_at = models.DateTimeField(auto_now_add=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    grant = models.ForeignKey(
        "access.AccessGrant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [
            models.Index(fields=["to_agency", "status", "-sent_at"], name="referral_inbox"),
            models.Index(fields=["case", "to_agency"], name="referral_case_agency"),
            # The cases a referral shares with the receiving agency, read from the index alone:
            # the case list reads the agency's referred cases by key from here (access policy,
            # ``case_scope_parts``), never by scanning every case.
            models.Index(fields=["to_agency", "status", "case"], name="referral_shared_cases"),
            # The inbox and the outbox, newest first: a page read in order from the agency's
            # part of the index, never by sorting all of its referrals (12,000 at 1M persons).
            models.Index(fields=["to_agency", "-sent_at", "-id"], name="referral_inbox_sent"),
            models.Index(fields=["from_agency", "-sent_at", "-id"], name="referral_outbox_sent"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)


class TaskKind(models.TextChoices):
    REFLECTION_END = "reflection_end", _("Recovery and reflection period ends")
    IDENTIFICATION = "identification", _("Identification decision due")
    REFERRAL_ANSWER = "referral_answer", _("Answer the referral")
    PLAN_REVIEW = "plan_review", _("Review the assistance plan")
    FOLLOW_UP = "follow_up", _("Reintegration follow-up")
    GUARDIAN = "guardian", _("Appoint a guardian")


class Task(models.Model):
    """A dated piece of work on a case for an agency (optionally one person in it)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=30, choices=TaskKind.choices)
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["agency", "done_at", "due_on"], name="task_agency_due"),
            # A case's earliest open task of one agency (the case list's "next due" column and
            # sort): one index probe per case, never a walk over the agency's open tasks.
            models.Index(fields=["case", "agency", "done_at", "due_on"], name="task_case_next_due"),
            # "My work": an agency's open tasks in due order, read in order up to the page's
            # end (26,000 open tasks of one shelter at 1M persons were sorted for each page).
            models.Index(
                fields=["agency", "due_on", "id"],
                condition=models.Q(done_at__isnull=True),
                name="task_agency_open_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.case_id}"


class Notification(models.Model):
    """An in-app notice; its text never holds personal data (it names a kind and a link)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_notifications"
    )
    message = models.CharField(max_length=200)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return f"notification {self.pk}"


class ConsentPurpose(models.TextChoices):
    """What a person consents to. A list, not free text: a typed purpose ("HIV test") would be
    health data in a plaintext column, shown to every agency that sees the case."""

    INFORMATION_SHARING = "information_sharing", _("Sharing information with another agency")
    MEDICAL = "medical", _("Medical examination or treatment")
    INTERVIEW = "interview", _("Interview or statement")
    LEGAL_PROCEEDINGS = "legal_proceedings", _("Taking part in legal proceedings")
    ASSISTED_RETURN = "assisted_return", _("Assisted return")
    FAMILY_CONTACT = "family_contact", _("Contact with the family")
    DATA_PROCESSING = "data_processing", _("Processing of personal data")
    OTHER = "other", _("Other")


class Consent(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=100, choices=ConsentPurpose.choices)
    given = models.BooleanField(_("given"))
    recorded_on = models.DateField(_("recorded on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"consent {self.pk}"


class CaseNote(ProtectedModel):
    FIELD_GROUP = "narrative"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    body = ProtectedTextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note {self.pk}"


class CaseDocumentKind(models.TextChoices):
    """What a case document is; the kind decides which field group may see it."""

    IDENTITY_PAPERS = "identity_papers", _("Identity papers")
    MEDICAL = "medical", _("Medical record")
    STATEMENT = "statement", _("Statement or interview record")
    INVESTIGATION = "investigation", _("Police or investigation report")
    LEGAL = "legal", _("Legal or court document")
    PROTECTION = "protection", _("Protection measure or safety plan")


class CaseDocument(ProtectedModel):
    """A file on a victim case (identity papers, medical record, statement...), encrypted in
    the database with the document's own data key: title, file name and content are protected;
    the plaintext columns hold only the kind, type, size and dates. A user sees a document only
    with the field group of its kind for that case (``KIND_GROUPS``). A withdrawn document keeps
    its row (for the audit trail) but loses its title, name and content."""

    KIND_GROUPS = {
        CaseDocumentKind.IDENTITY_PAPERS: "identity",
        CaseDocumentKind.MEDICAL: "health",
        CaseDocumentKind.STATEMENT: "narrative",
        CaseDocumentKind.INVESTIGATION: "investigation",
        CaseDocumentKind.LEGAL: "protection",
        CaseDocumentKind.PROTECTION: "protection",
    }

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(_("kind of document"), max_length=30, choices=CaseDocumentKind.choices)
    title = ProtectedCharField(_("title"), max_length=200, blank=True)
    file_name = ProtectedCharField(_("file name"), max_length=255, blank=True)
    content = ProtectedBinaryField(_("content"))
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = ProtectedTextField(_("reason for withdrawal"), blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("case document")
        verbose_name_plural = _("case documents")
        indexes = [
            models.Index(fields=["case", "withdrawn_at", "-uploaded_at"], name="case_document_list")
        ]

    def __str__(self) -> str:
        # Never the title or file name: this string ends up in logs and error reports.
        return str(self.public_id)

    @property
    def field_group(self) -> str:
        return self.KIND_GROUPS[self.kind]

    @classmethod
    def kinds_in(cls, field_groups) -> list[str]:
        """The kinds of document a holder of ``field_groups`` may see."""
        return [kind.value for kind, group in cls.KIND_GROUPS.items() if group in field_groups]
