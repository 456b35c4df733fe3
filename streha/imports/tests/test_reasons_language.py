"""A rejected row's reason is written in the language of the person who started the check,
whatever language the worker runs in (issue 12: "a reason in the user's language")."""

import pytest
from django.utils import translation
from django.utils.translation import gettext

from streha.imports import services
from streha.imports.tests.conftest import csv_bytes, row
from streha.jobs.models import JobState
from streha.jobs.services import execute_job

pytestmark = pytest.mark.django_db

ENGLISH = "Write the date as YYYY-MM-DD."


@pytest.mark.parametrize("language", ["sq", "sr-latn", "en"])
def test_the_reason_of_a_rejected_row_is_in_the_starters_language(importer, owner, language):
    content = csv_bytes([row("G1"), row("G2", prs_Birthdate="31/12/1999")])
    with translation.override(language):
        upload = services.check_upload(importer, owner, content, file_name="records.csv")
        expected = gettext(ENGLISH)
    if language != "en":
        assert expected != ENGLISH  # the catalogue has it
    job = upload.dry_run_job
    with translation.override("en" if language != "en" else "sq"):  # the worker's own
        execute_job(str(job.public_id))
    job.refresh_from_db()
    assert job.state == JobState.SUCCEEDED
    report = services.Report(**job.result)
    assert report.errors == [[3, "prs_Birthdate", expected]]
