import datetime

import pytest

from streha.linkage import engine


@pytest.mark.parametrize(
    ("albanian", "serbian"),
    [
        ("Xhemajl", "Džemajl"),
        ("Shala", "Šala"),
        ("Zhaklina", "Žaklina"),
        ("Gjergj", "Đerđ"),
        ("Qazim", "Ćazim"),
        ("Çeku", "Čeku"),
        ("Gjorgjević", "Đorđević"),
        ("Thaçi", "Тхачи"),
    ],
)
def test_albanian_and_serbian_spellings_fold_to_one(albanian, serbian):
    assert engine.fold(albanian) == engine.fold(serbian)


def test_diacritics_and_punctuation_are_dropped():
    assert engine.fold("  Vjollcë-KRASNIQI ") == "vjollce krasnichi"  # q and ć are one sound
    assert engine.fold("") is None


def test_nicknames_are_data():
    assert engine.given_name_key("Vjolla") == "vjollca"
    assert engine.given_name_key("Saša") == "aleksandar"
    assert engine.given_name_key("Besarta Maria") == "besarta"


def test_features_use_descriptive_column_names_and_normalised_numbers():
    row = engine.features(
        engine.Identity(
            person_id=5,
            given_name="Ani",
            family_name="Šala",
            date_of_birth=datetime.date(1998, 3, 2),
            sex="unknown",
            personal_number="12-345 678",
            phone="+383 44 123 456",
        )
    )
    assert list(row) == engine.COLUMNS
    assert row["dob"] == "1998-03-02" and row["birth_year"] == "1998"
    assert row["sex"] is None
    assert row["personal_number"] == "12345678"
    assert row["phone_number"] == "44123456"
    assert row["full_name"] == "anita shala"


def test_connection_never_spills_to_disk():
    con = engine.connection("1GB")
    temp = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
    con.close()
    assert temp == ""
