"""The offence catalogue as data: loading a country's file, and reading it for forms.

Loading is idempotent. A record a legal officer corrected (``edited_locally``) is kept as it
is on a reload, so a correction needs no release; ``force`` overwrites it.
"""

import json
from datetime import date
from pathlib import Path

from django.db import transaction

from streha.justice.models import CriminalCode, Offence

DATA = Path(__file__).resolve().parent / "data"
CODE_FIELDS = ("title", "series_break", "series_break_note", "unconfirmed", "source")
OFFENCE_FIELDS = ("key", "scope", "iccs", "min_months", "max_months", "fine", "unconfirmed")


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@transaction.atomic
def load_offences(country: str, *, force: bool = False) -> tuple[int, int]:
    """Create or update the criminal codes and offences shipped for ``country``; returns how
    many codes and offences the file has."""
    path = DATA / f"{country.lower()}.json"
    if not country.isalpha() or not path.exists():
        raise ValueError(f"No offence catalogue is shipped for country code {country!r}.")
    data = json.loads(path.read_text(encoding="utf-8"))
    codes = {}
    for entry in data["codes"]:
        values = {field: entry[field] for field in CODE_FIELDS}
        values |= {
            "country": data["country"],
            "in_force_from": _day(entry["in_force_from"]),
            "in_force_to": _day(entry["in_force_to"]),
        }
        code = CriminalCode.objects.filter(code=entry["code"]).first()
        if code is None:
            code = CriminalCode.objects.create(code=entry["code"], **values)
        elif force or not code.edited_locally:
            for field, value in values.items():
                setattr(code, field, value)
            code.edited_locally = False
            code.save()
        codes[code.code] = code
    for entry in data["offences"]:
        code = codes[entry["code"]]
        values = {field: entry[field] for field in OFFENCE_FIELDS}
        values |= {
            "title_sq": entry["titles"]["sq"],
            "title_sr": entry["titles"]["sr"],
            "title_en": entry["titles"]["en"],
            "source": entry.get("source", ""),
            "valid_from": _day(entry.get("valid_from")) or code.in_force_from,
            "valid_to": _day(entry.get("valid_to")) or code.in_force_to,
        }
        offence = Offence.objects.filter(
            criminal_code=code, article=entry["article"], paragraph=entry["paragraph"]
        ).first()
        if offence is None:
            Offence.objects.create(
                criminal_code=code,
                article=entry["article"],
                paragraph=entry["paragraph"],
                **values,
            )
        elif force or not offence.edited_locally:
            for field, value in values.items():
                setattr(offence, field, value)
            offence.edited_locally = False
            offence.save()
    return len(data["codes"]), len(data["offences"])


def code_in_force(on: date) -> CriminalCode | None:
    return (
        CriminalCode.objects.filter(in_force_from__lte=on)
        .exclude(in_force_to__lt=on)
        .order_by("-in_force_from")
        .first()
    )


def series_breaks() -> list[CriminalCode]:
    """Codes whose entry into force breaks the statistical series (Eurostat flag ``b``)."""
    return list(CriminalCode.objects.filter(series_break=True).order_by("in_force_from"))


def is_series_break_year(year: int) -> bool:
    return any(code.in_force_from.year == year for code in series_breaks())


def offences_for_charges():
    """Offences that can be charged, newest code first."""
    return Offence.objects.select_related("criminal_code").order_by(
        "-criminal_code__in_force_from", "key"
    )
