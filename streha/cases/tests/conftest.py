import pytest


@pytest.fixture(autouse=True)
def _questionnaires(db):
    """The questionnaires come from a data migration; a transactional test run earlier in the
    session may have flushed them, so make sure they are there."""
    from streha.cases.models import Questionnaire
    from streha.cases.questionnaires import seed

    seed(Questionnaire)
