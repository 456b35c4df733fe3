"""The duplicate-finding model: features, the Splink settings, training and prediction.

Nothing here touches Django or the database: the job (``services.run_deduplication``) hands
it records already read through the protection layer, and ``bench/linkage.py`` hands it
FEBRL and synthetic records, so the benchmark measures the same pipeline the system runs.
Everything happens in an in-memory DuckDB whose spill directory is switched off, so no
identity is ever written to a file: a run that outgrows ``memory_limit`` fails with an
out-of-memory error instead of spilling (README "Finding duplicate persons").
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data"

# Serbian Cyrillic to Serbian Latin (the official two scripts of Serbian).
CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "ђ": "đ", "е": "e", "ж": "ž", "з": "z",
    "и": "i", "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "ћ": "ć", "у": "u", "ф": "f", "х": "h", "ц": "c",
    "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip
# Albanian and Serbian (Latin) spell the same sounds differently: both are brought to one
# ASCII spelling, so "Xhemajl"/"Džemajl", "Shala"/"Šala", "Gjergj"/"Đerđ", "Qazim"/"Ćazim",
# "Çeku"/"Čeku" compare equal. Longest first: "dž" before "ž".
SERBIAN_LATIN = (("dž", "xh"), ("đ", "gj"), ("š", "sh"), ("ž", "zh"), ("č", "ch"), ("ć", "ch"))
ALBANIAN = (("ç", "ch"), ("ë", "e"), ("q", "ch"), ("dj", "gj"))


def fold(value: str | None) -> str | None:
    """One spelling for a name: lower case, Cyrillic to Latin, Albanian and Serbian letters to
    one ASCII form, other diacritics dropped, anything but letters and spaces removed."""
    if not value:
        return None
    text = value.strip().lower()
    text = "".join(CYRILLIC.get(ch, ch) for ch in text)
    for source, target in SERBIAN_LATIN + ALBANIAN:
        text = text.replace(source, target)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^a-z ]+", " ", text)
    text = re.sub(r"\s+", " ", text).strip()
    return text or None


@cache
def nicknames() -> dict[str, str]:
    """Nickname -> given name, kept as data (``data/nicknames.csv``) so a country adds its
    own without a code change; both sides are folded like the names they are compared with."""
    table: dict[str, str] = {}
    with open(DATA / "nicknames.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            nick, name = fold(row["nickname"]), fold(row["name"])
            if nick and name:
                table[nick] = name
    return table


def given_name_key(value: str | None) -> str | None:
    folded = fold(value)
    if folded is None:
        return None
    first = folded.split(" ")[0]
    return nicknames().get(first, first)


def identifier(value: str | None) -> str | None:
    text = re.sub(r"[^0-9A-Za-z]", "", value or "").upper()
    return text or None


def phone_key(value: str | None) -> str | None:
    """The last eight digits: the same number written with or without +383/00383/0."""
    digits = re.sub(r"\D", "", value or "")
    return digits[-8:] if len(digits) >= 6 else None


@dataclass(frozen=True)
class Identity:
    """What the model reads of one person (decrypted in memory only)."""

    person_id: int
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | str | None = None
    birth_year: int | None = None
    sex: str = ""
    citizenship: str = ""
    personal_number: str = ""
    passport_number: str = ""
    phone: str = ""


UNKNOWN_SEX = {"", "unknown"}


def features(identity: Identity) -> dict[str, Any]:
    """The model's columns. Their names are not SQL keywords (Splink fails silently on those)."""
    given = given_name_key(identity.given_name)
    family = fold(identity.family_name)
    dob = identity.date_of_birth
    if isinstance(dob, date):
        dob = dob.isoformat()
    year = identity.birth_year
    if year is None and dob:
        year = int(str(dob)[:4])
    return {
        "unique_id": identity.person_id,
        "given_name": given,
        "family_name": family,
        "full_name": f"{given} {family}" if given and family else None,
        "dob": dob or None,
        "birth_year": str(year) if year else None,
        "sex": None if identity.sex in UNKNOWN_SEX else identity.sex,
        "citizenship": identity.citizenship or None,
        "personal_number": identifier(identity.personal_number),
        "passport_number": identifier(identity.passport_number),
        "phone_number": phone_key(identity.phone),
    }


COLUMNS = [
    "unique_id",
    "given_name",
    "family_name",
    "full_name",
    "dob",
    "birth_year",
    "sex",
    "citizenship",
    "personal_number",
    "passport_number",
    "phone_number",
]
# How each comparison is labelled on the review page (the comparison vector's names).
COMPARISONS = ["name", "birth", "sex", "citizenship", "personal_number", "passport", "phone"]


def blocking_rules():
    from splink import block_on

    return [
        block_on("given_name", "family_name"),
        block_on("family_name", "birth_year"),
        block_on("given_name", "birth_year"),
        block_on("dob"),
        block_on("personal_number"),
        block_on("passport_number"),
        block_on("phone_number"),
        # Given and family names swapped.
        "l.given_name = r.family_name and l.family_name = r.given_name",
        block_on("substr(given_name, 1, 2)", "substr(family_name, 1, 2)", "sex"),
    ]


def settings(blocking=None, *, link_type: str = "dedupe_only") -> dict:
    """The system's model: Albanian/Serbian-aware names with swaps, date or year of birth,
    sex, citizenship, the document numbers and the phone, term-frequency adjusted names."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    name = cl.ForenameSurnameComparison(
        "given_name", "family_name", forename_surname_concat_col_name="full_name"
    ).configure(term_frequency_adjustments=True)
    birth = cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel("birth_year"),
            cll.ExactMatchLevel("dob"),
            cll.DamerauLevenshteinLevel("dob", 1),
            cll.And(cll.ExactMatchLevel("birth_year"), cll.NullLevel("dob")),
            cll.ExactMatchLevel("birth_year"),
            cll.ElseLevel(),
        ],
        output_column_name="birth",
    )
    creator = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="unique_id",
        comparisons=[
            name.configure(),
            birth,
            cl.ExactMatch("sex"),
            cl.ExactMatch("citizenship"),
            cl.DamerauLevenshteinAtThresholds("personal_number", [1]),
            cl.DamerauLevenshteinAtThresholds("passport_number", [1]),
            cl.DamerauLevenshteinAtThresholds("phone_number", [1]),
        ],
        blocking_rules_to_generate_predictions=blocking or blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=True,
    )
    return creator.create_settings_dict(sql_dialect_str="duckdb")


def connection(memory_limit: str = "3GB"):
    """An in-memory DuckDB that never writes a spill file (identities stay in memory)."""
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET temp_directory = ''")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET enable_external_access = false")
    return con


def frame(rows: list[dict]):
    import pandas as pd

    return pd.DataFrame(rows, columns=COLUMNS).astype({"unique_id": "int64"})


@dataclass
class Trained:
    linker: Any
    model: dict  # the trained model as JSON (parameters; stored with the training date)


def train(db_api, df, *, model_settings: dict | None = None, seed: int = 1) -> Trained:
    """Train without labels: lambda from deterministic rules, u by random sampling, m by EM
    in two sessions (each blocked on what the other estimates)."""
    from splink import Linker, block_on

    table = db_api.register(df)
    linker = Linker(table, model_settings or settings(), log_level="ERROR")
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("given_name", "family_name", "dob"),
            block_on("personal_number"),
            block_on("passport_number"),
        ],
        recall=0.7,
    )
    # A register with no sure duplicates yet gives λ = 0, which Splink cannot turn into a
    # weight: fall back to one expected duplicate among all pairs.
    records = max(len(df), 2)
    floor = 2.0 / (records * (records - 1))
    if not linker._settings_obj._probability_two_random_records_match > floor:
        linker._settings_obj._probability_two_random_records_match = floor
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=seed)
    for rule in (block_on("given_name", "family_name"), block_on("dob")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception:  # noqa: BLE001, S112 - too few pairs in a small register: keep u/defaults
            continue
    model = linker.misc.save_model_to_json()
    return Trained(linker=linker, model=model)


def comparison_vector(row: dict) -> dict[str, float]:
    """``{comparison: match weight}`` from one prediction row: log2 of the Bayes factor each
    comparison contributed (term-frequency adjustment included); above 0 the field agreed,
    below 0 it disagreed, 0 it was missing on one side."""
    vector = {}
    for name in COMPARISONS:
        column = OUTPUT_NAMES[name]
        weight = row.get(f"mw_{column}")
        if weight is None:
            continue
        tf = row.get(f"mw_tf_adj_{column}")
        total = float(weight) + (float(tf) if tf is not None and tf == tf else 0.0)
        vector[name] = round(total, 3)
    return vector


OUTPUT_NAMES = {
    "name": "given_name_family_name",
    "birth": "birth",
    "sex": "sex",
    "citizenship": "citizenship",
    "personal_number": "personal_number",
    "passport": "passport_number",
    "phone": "phone_number",
}


def predict(trained: Trained, threshold: float = 0.5):
    """Candidate pairs at or above ``threshold``: (id_l, id_r, probability, weight, vector)."""
    result = trained.linker.inference.predict(threshold_match_probability=threshold)
    frame = result.as_pandas_dataframe()
    pairs = []
    for row in frame.to_dict("records"):
        left, right = int(row["unique_id_l"]), int(row["unique_id_r"])
        if left > right:
            left, right = right, left
        pairs.append(
            (
                left,
                right,
                float(row["match_probability"]),
                float(row["match_weight"]),
                comparison_vector(row),
            )
        )
    result.drop_table_from_database_and_remove_from_cache()
    return pairs


def run(rows: list[dict], *, threshold: float = 0.5, memory_limit: str = "3GB", seed: int = 1):
    """Train on ``rows`` (``features`` dicts) and score the candidate pairs, in memory."""
    from splink import DuckDBAPI

    con = connection(memory_limit)
    try:
        trained = train(DuckDBAPI(connection=con), frame(rows), seed=seed)
        return trained.model, predict(trained, threshold)
    finally:
        con.close()
