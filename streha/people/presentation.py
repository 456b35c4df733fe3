"""The person list's rows, built in Python (issue 17: every ms of CPU per request counts under
load). Thin: what a row shows comes from ``selectors.list_persons``."""

from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


def _text(value) -> str:
    """A value as the template printed it: localized, then escaped (``None`` prints "None")."""
    return conditional_escape(str(localize(value)))


def person_rows_html(rows) -> SafeString:
    """The person list's ``<tr>`` rows (``PersonRow``s) as one string, each row built once
    with every value escaped, rather than a template node per cell. The markup is the one the
    row template printed (``people/tests/test_person_rows_html.py`` compares them)."""
    placeholder = "00000000-0000-0000-0000-000000000000"
    url = conditional_escape(reverse("people:detail", args=[placeholder]))
    anonymised = f"<em>{conditional_escape(_('anonymised'))}</em>"
    not_shared = conditional_escape(_("not shared with your agency"))
    not_shared = f'<span class="muted">{not_shared}</span>'
    agencies: dict = {}
    parts = []
    for row in rows:
        person = row.person
        if person.anonymised_at:
            name = anonymised
        elif row.shows_identity:
            name = f"{_text(person.given_name)} {_text(person.family_name)}"
        else:
            name = not_shared
        agency = agencies.get(person.owner_agency_id)
        if agency is None:
            agency = agencies[person.owner_agency_id] = _text(person.owner_agency)
        parts.append(
            "\n  <tr>\n"
            f'    <td><a href="{url.replace(placeholder, str(person.public_id))}">'
            f"{_text(person.reference)}</a></td>\n"
            f"    <td>{name}</td>\n"
            f"    <td>{_text(person.birth_year) if person.birth_year else '—'}</td>\n"
            f"    <td>{agency}</td>\n"
            "  </tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
