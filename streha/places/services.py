"""Loading a country's administrative geography (idempotent: safe to run again)."""

from importlib import import_module

from django.db import transaction

from streha.places.models import Municipality, Region


@transaction.atomic
def load_country(country: str) -> tuple[int, int]:
    """Create or update the regions and municipalities shipped for ``country``.

    Returns how many regions and municipalities the country has.
    """
    try:
        data = import_module(f"streha.places.data.{country.lower()}")
    except ModuleNotFoundError:
        raise ValueError(f"No geography is shipped for country code {country!r}.") from None
    municipalities = 0
    for region_code, (region_names, places) in data.REGIONS.items():
        region, _ = Region.objects.update_or_create(
            code=region_code,
            defaults={
                "country": data.COUNTRY,
                "name_sq": region_names[0],
                "name_sr": region_names[1],
                "name_en": region_names[2],
            },
        )
        for code, name_sq, name_sr, name_en in places:
            Municipality.objects.update_or_create(
                code=code,
                defaults={
                    "region": region,
                    "name_sq": name_sq,
                    "name_sr": name_sr,
                    "name_en": name_en,
                },
            )
            municipalities += 1
    return len(data.REGIONS), municipalities
