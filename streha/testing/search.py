"""The set-up shared by the search tests of ``people`` and ``protection``: persons with twelve
different names, for tests that shorten an index until different names share its entries."""

import pytest

# Twelve given and family names, none shared: with a 2-bit index each entry is shared by
# about a quarter of them, so a search that trusted the index alone would return wrong ones.
NAMES = [
    ("Arta", "Krasniqi"),
    ("Besnik", "Gashi"),
    ("Drita", "Berisha"),
    ("Edona", "Hoxha"),
    ("Fatmir", "Morina"),
    ("Gentiana", "Shala"),
    ("Hana", "Bytyqi"),
    ("Ilir", "Kastrati"),
    ("Jeta", "Rexhepi"),
    ("Kaltrina", "Maloku"),
    ("Liridon", "Zeqiri"),
    ("Marigona", "Ahmeti"),
]


def personal_number(index: int) -> str:
    return f"10000000{index:02d}"


@pytest.fixture
def named_persons(db):
    """A function making one person per name of ``NAMES`` (in that order, personal number
    ``personal_number(i)``), with further ``fields`` for all: a function, so that persons are
    made inside the test, under its ``override_settings`` of the index bits."""
    from streha.testing.factories import PersonFactory

    def make(**fields) -> list:
        return [
            PersonFactory(
                given_name=given, family_name=family, personal_number=personal_number(i), **fields
            )
            for i, (given, family) in enumerate(NAMES)
        ]

    return make
