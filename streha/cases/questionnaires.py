"""The screening questionnaires, as data. A new version is added (never edited in place) so
past screenings keep the questions they were answered against."""

from django.utils.translation import gettext_noop as N_

S, M = "strong", "medium"

QUESTIONNAIRES = [
    {
        "code": "ilo-forced-labour",
        "version": 1,
        "title": N_("ILO indicators of forced labour"),
        "strong_needed": 1,
        "total_needed": 3,
        "indicators": [
            ("abuse_of_vulnerability", N_("Abuse of vulnerability"), M),
            ("deception", N_("Deception"), M),
            ("restriction_of_movement", N_("Restriction of movement"), S),
            ("isolation", N_("Isolation"), M),
            ("physical_sexual_violence", N_("Physical and sexual violence"), S),
            ("intimidation_threats", N_("Intimidation and threats"), S),
            ("retention_of_documents", N_("Retention of identity documents"), S),
            ("withholding_of_wages", N_("Withholding of wages"), S),
            ("debt_bondage", N_("Debt bondage"), S),
            ("abusive_conditions", N_("Abusive working and living conditions"), M),
            ("excessive_overtime", N_("Excessive overtime"), M),
        ],
    },
    {
        "code": "unodc-sexual-exploitation",
        "version": 1,
        "title": N_("UNODC/IOM indicators: sexual exploitation"),
        "strong_needed": 1,
        "total_needed": 3,
        "indicators": [
            ("moved_between_brothels", N_("Moved between places of prostitution"), M),
            ("no_control_of_earnings", N_("Keeps little or none of the earnings"), S),
            ("forced_sex_acts", N_("Forced to perform sexual acts"), S),
            ("signs_of_violence", N_("Signs of physical violence"), S),
            ("sleeps_where_works", N_("Sleeps or lives where they work"), M),
            ("no_documents", N_("Has no identity documents"), M),
            ("escorted", N_("Always escorted, cannot speak alone"), S),
            ("tattoos_branding", N_("Tattoos or marks indicating ownership"), M),
        ],
    },
    {
        "code": "unodc-forced-begging",
        "version": 1,
        "title": N_("UNODC/IOM indicators: forced begging"),
        "strong_needed": 1,
        "total_needed": 3,
        "indicators": [
            ("hands_over_earnings", N_("Hands over the money collected"), S),
            ("punished_for_low_takings", N_("Punished if takings are low"), S),
            ("moved_daily", N_("Moved daily to different begging spots"), M),
            ("disabilities_exploited", N_("Disability used to attract sympathy"), M),
            ("lives_with_controllers", N_("Lives with those who control them"), M),
            ("children_in_groups", N_("Children begging in supervised groups"), M),
        ],
    },
    {
        "code": "unodc-forced-criminality",
        "version": 1,
        "title": N_("UNODC/IOM indicators: forced criminality"),
        "strong_needed": 1,
        "total_needed": 3,
        "indicators": [
            ("forced_to_commit_crimes", N_("Forced or threatened to commit offences"), S),
            ("hands_over_proceeds", N_("Hands over the proceeds"), S),
            ("quota", N_("Must meet a daily quota"), M),
            ("transported_to_sites", N_("Transported to and from the sites"), M),
            ("drug_dependency_used", N_("Drug dependency used for control"), M),
        ],
    },
    {
        "code": "unodc-child-trafficking",
        "version": 1,
        "title": N_("UNODC/IOM indicators: child trafficking"),
        "strong_needed": 1,
        "total_needed": 2,
        "indicators": [
            ("unaccompanied", N_("Unaccompanied or with unrelated adults"), S),
            ("works_not_schooled", N_("Works instead of attending school"), M),
            ("no_access_to_parents", N_("No access to parents or guardians"), S),
            ("coached_story", N_("Tells a rehearsed or coached story"), M),
            ("false_documents", N_("Carries false documents"), M),
            ("sexual_exploitation_signs", N_("Signs of sexual exploitation"), S),
        ],
    },
]


def seed(questionnaire_model) -> None:
    """Create the questionnaire versions that do not exist yet (idempotent)."""
    for data in QUESTIONNAIRES:
        questionnaire_model.objects.get_or_create(
            code=data["code"],
            version=data["version"],
            defaults={
                "title": data["title"],
                "strong_needed": data["strong_needed"],
                "total_needed": data["total_needed"],
                "indicators": [
                    {"code": code, "text": text, "strength": strength}
                    for code, text, strength in data["indicators"]
                ],
            },
        )
