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
import math
import re
import time
import unicodedata
from dataclasses import dataclass, field
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
    """Which pairs are scored at all. Each rule is an equality join (no OR), so DuckDB hashes
    it; the looser ones add a second key so that a common name or birth date alone never
    makes a block of everyone. Recall of the union (bench/linkage.py ``blocking_recall``;
    session 7): 200,000 synthetic persons 0.997 (0.966 with the ten rules before, the same at
    1,000,000), FEBRL3 0.993, FEBRL4 0.997. The check at registration stores one blind key per rule
    (``fast.stored_keys``): a new rule here needs its key there."""
    from splink import block_on

    # The names' initials and first-and-last letters are columns of the features table
    # (``FEATURES_SQL``: given_i1 ... family_ends), so each rule is a join on plain columns,
    # and the later rules' exclusion of the earlier ones' pairs compares columns instead of
    # computing substrings for every candidate pair.
    initials = "l.given_i2 = r.given_i2 and l.family_i2 = r.family_i2"
    swapped_initials = "l.given_i2 = r.family_i2 and l.family_i2 = r.given_i2"
    ends = "l.given_ends = r.given_ends and l.family_ends = r.family_ends"
    swapped_ends = "l.given_ends = r.family_ends and l.family_ends = r.given_ends"
    # One side without a year: two rules, "the left has none" and "the right has none" (the
    # same pairs as "either has none"), so each filter applies to one side before the join
    # instead of to every pair of persons sharing initials and sex (at 200,000 synthetic
    # persons 5.5 million such pairs a rule, to keep 41,000; ~140 million at 1,000,000).
    no_year = [
        "l.sex = r.sex and l.birth_year is null",
        "l.sex = r.sex and r.birth_year is null",
    ]
    return [
        block_on("given_name", "family_name"),
        block_on("personal_number"),
        block_on("passport_number"),
        block_on("phone_number"),
        # Given and family names swapped.
        "l.given_name = r.family_name and l.family_name = r.given_name",
        # A wrong day or month of birth, or only the year known, and one name misspelt.
        block_on("family_name", "birth_year", "given_i1"),
        block_on("given_name", "birth_year", "family_i1"),
        # Both names misspelt (at the start: the first two letters; inside: the first and
        # last letters), with the year, or with sex when one side has no year; and swapped.
        f"{initials} and l.birth_year = r.birth_year",
        *(f"{initials} and {side}" for side in no_year),
        f"{ends} and l.birth_year = r.birth_year",
        *(f"{ends} and {side}" for side in no_year),
        f"{swapped_initials} and l.birth_year = r.birth_year",
        f"{swapped_ends} and l.birth_year = r.birth_year",
        *(f"{swapped_ends} and {side}" for side in no_year),
        # Both names misspelt or changed, the date of birth kept. (The date with one name's
        # initial instead of the date alone, 6 million bound pairs at 1M instead of 26, lost
        # FEBRL3 pairs with a name missing: recall 0.988; kept as it was.)
        block_on("dob"),
    ]


# One edit (a letter changed, added or dropped, or two neighbours swapped) touches at most two
# adjacent positions, so two values within Damerau-Levenshtein 1 keep their first k or their
# last k characters equal whenever the shorter is at least 2k + 2 long: 3 from 8 characters,
# 4 from 10 (dates of birth, personal numbers: the first three of a date are only its decade,
# which most pairs share; the first four are its year). Tested first (cheap slices; DuckDB
# evaluates the rest of an AND only where it holds), it spares the quadratic distance for
# nearly every pair of different dates or numbers: prediction costs about half the CPU, and
# every pair lands on the same level as without it (a necessary condition, never a
# sufficient one: ``test_engine.py::test_the_near_level_guard_changes_no_level``).
NEAR_GUARD_LENGTH = 8
NEAR_GUARD_ENDS = 3
NEAR_GUARD_LONG_LENGTH = 10
NEAR_GUARD_LONG_ENDS = 4


def near_guard_sql(column: str) -> str:
    """The cheap necessary condition of ``damerau_levenshtein(l, r) <= 1`` (``near_sql``)."""
    left, right = f'"{column}_l"', f'"{column}_r"'
    n, k = NEAR_GUARD_LENGTH, NEAR_GUARD_ENDS
    long_n, long_k = NEAR_GUARD_LONG_LENGTH, NEAR_GUARD_LONG_ENDS

    def ends(count: int) -> str:
        return (
            f"left({left}, {count}) = left({right}, {count}) "
            f"OR right({left}, {count}) = right({right}, {count})"
        )

    return (
        f"(length({left}) < {n} OR length({right}) < {n} "
        f"OR ((length({left}) < {long_n} OR length({right}) < {long_n}) AND ({ends(k)})) "
        f"OR {ends(long_k)})"
    )


def near_sql(column: str) -> str:
    """``damerau_levenshtein(l, r) <= 1`` behind its cheap necessary condition."""
    left, right = f'"{column}_l"', f'"{column}_r"'
    return f"{near_guard_sql(column)} AND damerau_levenshtein({left}, {right}) <= 1"


def _near_level(column: str):
    import splink.comparison_level_library as cll

    return cll.CustomLevel(near_sql(column), label_for_charts=f"Damerau-Levenshtein {column} <= 1")


def _near_comparison(column: str):
    """Null, exact, within one edit, else: Splink's ``DamerauLevenshteinAtThresholds(column,
    [1])`` with the guarded distance."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            _near_level(column),
            cll.ElseLevel(),
        ],
        output_column_name=column,
    )


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
            _near_level("dob"),
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
            _near_comparison("personal_number"),
            _near_comparison("passport_number"),
            _near_comparison("phone_number"),
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


# --- Vectorised features: the same rules as ``features``, in one DuckDB query ----------------

# What the model reads of each person, as columns (strings, or None): ``raw_frame`` builds
# them, ``load_features`` turns them into the model's columns inside DuckDB.
RAW = [
    "unique_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "birth_year",
    "sex",
    "citizenship",
    "personal_number",
    "passport_number",
    "phone",
]


def raw_frame(columns: dict[str, list]):
    """A DataFrame of ``RAW`` columns (``unique_id`` int64, the others text or None)."""
    import pandas as pd

    data = {name: columns.get(name, [None] * len(columns["unique_id"])) for name in RAW}
    df = pd.DataFrame(data, columns=RAW)
    df["unique_id"] = df["unique_id"].astype("int64")
    for name in RAW[1:]:
        df[name] = df[name].astype("string")
    return df


def raw_columns(identities) -> dict[str, list]:
    """``RAW`` columns of ``Identity`` objects (dates as ISO text, the year as text)."""
    columns: dict[str, list] = {name: [] for name in RAW}
    for identity in identities:
        dob = identity.date_of_birth
        columns["unique_id"].append(identity.person_id)
        columns["given_name"].append(identity.given_name or None)
        columns["family_name"].append(identity.family_name or None)
        columns["date_of_birth"].append((dob.isoformat() if isinstance(dob, date) else dob) or None)
        columns["birth_year"].append(str(identity.birth_year) if identity.birth_year else None)
        columns["sex"].append(identity.sex or None)
        columns["citizenship"].append(identity.citizenship or None)
        columns["personal_number"].append(identity.personal_number or None)
        columns["passport_number"].append(identity.passport_number or None)
        columns["phone"].append(identity.phone or None)
    return columns


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fold_sql(column: str) -> str:
    """``fold`` as a DuckDB expression (kept equal by ``test_sql_features_equal_python``)."""
    multi = {k: v for k, v in CYRILLIC.items() if len(v) > 1}
    single = {k: v for k, v in CYRILLIC.items() if len(v) == 1}
    text = f"lower(trim({column}))"
    for source, target in multi.items():
        text = f"replace({text}, {_quote(source)}, {_quote(target)})"
    text = f"translate({text}, {_quote(''.join(single))}, {_quote(''.join(single.values()))})"
    for source, target in SERBIAN_LATIN + ALBANIAN:
        text = f"replace({text}, {_quote(source)}, {_quote(target)})"
    text = f"regexp_replace(strip_accents({text}), '[^a-z ]+', ' ', 'g')"
    text = f"trim(regexp_replace({text}, '\\s+', ' ', 'g'))"
    return f"nullif({text}, '')"


FEATURES_SQL = """
create or replace table {table} as
with folded as (
    select unique_id,
           {fold_given} as given_folded,
           {fold_family} as family_name,
           nullif(trim(date_of_birth), '') as dob,
           coalesce(nullif(trim(birth_year), ''), substr(nullif(trim(date_of_birth), ''), 1, 4))
               as birth_year,
           case when coalesce(sex, '') in ('', 'unknown') then null else sex end as sex,
           nullif(citizenship, '') as citizenship,
           nullif(upper(regexp_replace(coalesce(personal_number, ''), '[^0-9A-Za-z]', '', 'g')),
                  '') as personal_number,
           nullif(upper(regexp_replace(coalesce(passport_number, ''), '[^0-9A-Za-z]', '', 'g')),
                  '') as passport_number,
           regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g') as phone_digits
    from {source}
), keyed as (
    select f.*, coalesce(n.name, split_part(f.given_folded, ' ', 1)) as given_name
    from folded f
    left join {nicknames} n on n.nickname = split_part(f.given_folded, ' ', 1)
)
select unique_id,
       given_name,
       family_name,
       case when given_name is not null and family_name is not null
            then given_name || ' ' || family_name end as full_name,
       dob,
       birth_year,
       sex,
       citizenship,
       personal_number,
       passport_number,
       case when length(phone_digits) >= 6 then right(phone_digits, 8) end as phone_number,
       substr(given_name, 1, 1) as given_i1,
       substr(family_name, 1, 1) as family_i1,
       substr(given_name, 1, 2) as given_i2,
       substr(family_name, 1, 2) as family_i2,
       substr(given_name, 1, 1) || right(given_name, 1) as given_ends,
       substr(family_name, 1, 1) || right(family_name, 1) as family_ends
from keyed
"""
# Blocking keys derived from the names (``blocking_rules``): the first letter, the first two,
# and the first and last letters (the synthetic and real misspellings -- a letter dropped,
# added or changed inside the name, "j"/"i" -- keep both). Not model columns (``COLUMNS``).
BLOCKING_COLUMNS = ("given_i1", "family_i1", "given_i2", "family_i2", "given_ends", "family_ends")


def load_features(con, raw, table: str = "person_features") -> str:
    """Build the model's columns (``COLUMNS``) from ``raw`` (``raw_frame``) in ``con``, in SQL:
    no Python loop over persons. Returns the table's name."""
    _ensure_nicknames(con)
    con.register("streha_raw", raw)
    try:
        con.execute(
            FEATURES_SQL.format(
                table=table,
                source="streha_raw",
                nicknames=NICKNAMES_TABLE,
                fold_given=fold_sql("given_name"),
                fold_family=fold_sql("family_name"),
            )
        )
    finally:
        con.unregister("streha_raw")
    return table


NICKNAMES_TABLE = "streha_nicknames"


def _ensure_nicknames(con) -> None:
    """The nickname table, loaded once per connection (a registration scorer reuses it)."""
    import pandas as pd

    exists = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [NICKNAMES_TABLE]
    ).fetchall()[0][0]
    if exists:
        return
    table = nicknames()
    source = pd.DataFrame({"nickname": list(table), "name": list(table.values())})
    con.register("streha_nicknames_source", source.astype("string"))
    try:
        con.execute("CREATE TABLE streha_nicknames AS SELECT * FROM streha_nicknames_source")
    finally:
        con.unregister("streha_nicknames_source")


U_PAIRS = 5e5
# An EM session reads at most about this many pairs. Its blocked pairs are a fixed
# pseudo-random sample (by both persons' ids) when its rule makes more: EM estimates shares
# of agreement patterns, which a uniform sample of the pairs keeps, while the session's cost
# and memory (every pair's comparison vector) stop growing with the square of the register.
# FEBRL's sessions stay below it (every pair read, as before); at 200,000 synthetic persons
# the equal-names session has 3.2 million pairs, at 1,000,000 ~80 million. Measured at
# 200,000: F1 0.9375 with every pair and with a 400,000-pair cap (bench/linkage.py), 25 %
# less CPU for the whole run.
EM_PAIRS = 1_000_000


def em_rules(con, table: str, seed: int = 1) -> list:
    """The two EM sessions' blocking rules (equal names; equal date of birth), each sampled
    down to ``EM_PAIRS`` pairs when it would make more."""
    from splink import block_on

    rules = []
    for columns in (("given_name", "family_name"), ("dob",)):
        rule = block_on(*columns)
        pairs = blocked_pairs_bound(con, table, [rule])
        if pairs <= EM_PAIRS:
            rules.append(rule)
            continue
        keep = max(2, math.ceil(pairs / EM_PAIRS))
        equal = " and ".join(f"l.{c} = r.{c}" for c in columns)
        rules.append(f"{equal} and hash(l.unique_id, r.unique_id, {int(seed)}) % {keep} = 0")
    return rules


@dataclass
class Trained:
    linker: Any
    model: dict  # the trained model as JSON (parameters; stored with the training date)


def train(db_api, table, *, records: int, model_settings: dict | None = None, seed: int = 1):
    """Train without labels: lambda from deterministic rules, u by random sampling, m by EM
    in two sessions (each blocked on what the other estimates). ``table`` is a registered
    Splink table of ``COLUMNS`` (``training_table``); ``records`` its row count."""
    from splink import Linker, block_on

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
    records = max(records, 2)
    floor = 2.0 / (records * (records - 1))
    if not linker._settings_obj._probability_two_random_records_match > floor:
        linker._settings_obj._probability_two_random_records_match = floor
    # One pass over the sample: the chunked early stop never stops for rare levels (swapped
    # names, a near personal number) and ran ~60 SQL passes instead of one. 500,000 pairs:
    # u sampling was half of a training run's CPU at 1e6; at 5e5 F1 is unchanged
    # (bench/linkage.py) and the rarest level (swapped names, u ~ 2.5e-5) is still seen ~12x.
    linker.training.estimate_u_using_random_sampling(max_pairs=U_PAIRS, seed=seed, num_chunks=1)
    for rule in em_rules(db_api._con, table.physical_name, seed):
        try:
            # Without term frequencies in the E step: m of the name levels is an average over
            # names anyway, and the adjustment is applied at prediction (~40 % less EM time).
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, estimate_without_term_frequencies=True
            )
        except Exception as exc:  # noqa: BLE001 - too few pairs in a small register: keep u/defaults
            if out_of_memory(exc):
                raise  # never a model silently left untrained because memory ran out
            continue
        finally:
            drop_session_tables(db_api._con)
    model = linker.misc.save_model_to_json()
    return Trained(linker=linker, model=model)


# Tables an EM session leaves in DuckDB once its parameters are read: its blocked pairs and
# their comparison vectors. At 1,000,000 synthetic persons they held ~2.5 GB (the equal-names
# session alone ~80 million pairs) that prediction then lacked under the memory limit.
SESSION_TABLES = (
    "__splink__blocked_id_pairs",
    "__splink__df_comparison_vectors",
    "__splink__agreement_pattern_counts",
)


def drop_session_tables(con) -> int:
    """Drop what finished training sessions left behind; returns how many tables."""
    names = [
        name
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        if name.startswith(SESSION_TABLES)
    ]
    for name in names:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
    return len(names)


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


# What one blocked pair may cost DuckDB while a chunk is predicted (its id pair, the join's
# share, the comparison row streaming through): a chunk holds at most memory_limit / this
# many pairs. At 1,000,000 synthetic persons the unchunked prediction (~125 million blocked
# pairs) stopped at a 3 GB limit; chunked it stays inside it.
BYTES_PER_BLOCKED_PAIR = 100


def memory_bytes(limit: str) -> int:
    """DuckDB's ``memory_limit`` text ('3GB', '512MB', '2GiB') in bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)(i?)B?\s*", limit.upper().replace("IB", "iB"))
    if not match:
        return 3 * 1000**3
    base = 1024 if match.group(3) else 1000
    return int(float(match.group(1)) * base ** " KMGT".index(match.group(2) or " "))


def blocked_pairs_bound(con, table: str, rules) -> int:
    """An upper bound of the pairs the blocking rules make: for every rule the pairs sharing
    its equality keys (and meeting its conditions on one side, such as a missing year),
    counted from grouped counts (no pair is built), rules' overlaps and other conditions
    ignored."""
    from splink.internals.blocking_analysis import _as_blocking_rule

    total = 0
    for rule in rules:
        parsed = _as_blocking_rule(rule, "duckdb")
        keys = parsed._equi_join_conditions
        if not keys:
            return 0  # a rule without equality keys: the bound says nothing
        filters = _one_side_filters(parsed._filter_conditions)
        if any(filters):
            # A condition on one side only (a missing year): each side's persons counted
            # under it; pairs (l, r) and (r, l) are both counted, as below.
            # Only the ordered pairs (l < r) with the condition on l, or on r: at most the
            # product once, not twice as for a symmetric rule.
            total += 2 * _joined_count(con, table, keys, filters)
            continue
        if all(left == right for left, right in keys):
            # The same keys on both sides (every rule but the swapped names): one grouping,
            # each group's n x n, instead of two groupings joined.
            columns = ", ".join(pair[0] for pair in keys)
            present = " AND ".join(f"{pair[0]} IS NOT NULL" for pair in keys)
            sql = (
                f"SELECT coalesce(sum(n * n), 0) FROM (SELECT count(*) AS n FROM {table} "  # noqa: S608
                f"WHERE {present} GROUP BY {columns})"
            )
            total += int(con.execute(sql).fetchall()[0][0])
            continue
        total += _joined_count(con, table, keys, ([], []))
    return total // 2  # each pair once (l < r)


def _joined_count(con, table: str, keys: list, filters: tuple) -> int:
    """Pairs (l, r) with equal keys (each side's own column), each side's persons counted under
    its own conditions: the two sides grouped by their keys, the groups' counts multiplied."""
    sides = []
    for side in (0, 1):
        columns = ", ".join(f"{pair[side]} AS k{i}" for i, pair in enumerate(keys))
        present = " AND ".join([f"{pair[side]} IS NOT NULL" for pair in keys] + filters[side])
        sides.append(
            f"SELECT {columns}, count(*) AS n FROM {table} WHERE {present} "  # noqa: S608
            f"GROUP BY ALL"
        )
    using = ", ".join(f"k{i}" for i in range(len(keys)))
    sql = (
        f"SELECT coalesce(sum(l.n * r.n), 0) FROM ({sides[0]}) l "  # noqa: S608
        f"JOIN ({sides[1]}) r USING ({using})"
    )
    return int(con.execute(sql).fetchall()[0][0])


def _one_side_filters(conditions: str) -> tuple[list[str], list[str]]:
    """The conjuncts of a rule's non-equality conditions that read only the left or only the
    right record, without the side's prefix (for grouped counts of one table)."""
    if not conditions:
        return [], []
    import sqlglot
    from sqlglot import exp

    found: tuple[list[str], list[str]] = ([], [])
    tree = sqlglot.parse_one(conditions, read="duckdb")
    for part in tree.flatten() if isinstance(tree, exp.And) else [tree]:
        tables = {column.table for column in part.find_all(exp.Column)}
        if tables in ({"l"}, {"r"}):
            side = 0 if tables == {"l"} else 1
            copy = part.copy()
            for column in copy.find_all(exp.Column):
                column.set("table", None)
            found[side].append(copy.sql(dialect="duckdb"))
    return found


def prediction_chunks(pairs: int, memory_limit: str) -> int:
    """Chunks per side (the prediction runs side x side chunks) so that one chunk's pairs fit
    in ``memory_limit``."""
    per_chunk = max(1, memory_bytes(memory_limit) // BYTES_PER_BLOCKED_PAIR)
    return max(1, math.ceil(math.sqrt(pairs / per_chunk)))


def predict(linker, threshold: float = 0.5, chunks: int = 1):
    """Candidate pairs at or above ``threshold``: (id_l, id_r, probability, weight, vector),
    read column-wise from each chunk's prediction table (no per-pair SQL or DataFrame row
    objects). ``chunks`` per side bound the blocked pairs DuckDB holds at once."""
    pairs = []
    for left in range(1, chunks + 1):
        for right in range(1, chunks + 1):
            result = linker.inference.predict_chunk(
                left_chunk=(left, chunks),
                right_chunk=(right, chunks),
                threshold_match_probability=threshold,
                warning_mode="never",
            )
            frame = result.as_pandas_dataframe()
            result.drop_table_from_database_and_remove_from_cache()
            pairs.extend(_pairs_of(frame))
    return pairs


def _pairs_of(frame) -> list:
    if frame.empty:
        return []
    vectors: dict[str, list] = {}
    for name in COMPARISONS:
        column = OUTPUT_NAMES[name]
        if f"mw_{column}" not in frame:
            continue
        weight = frame[f"mw_{column}"].astype("float64")
        if f"mw_tf_adj_{column}" in frame:
            weight = weight + frame[f"mw_tf_adj_{column}"].astype("float64").fillna(0.0)
        vectors[name] = weight.round(3).tolist()
    left = frame["unique_id_l"].astype("int64").tolist()
    right = frame["unique_id_r"].astype("int64").tolist()
    probability = frame["match_probability"].astype("float64").tolist()
    weight = frame["match_weight"].astype("float64").tolist()
    pairs = []
    for i, (a, b) in enumerate(zip(left, right, strict=True)):
        vector = {name: values[i] for name, values in vectors.items() if values[i] == values[i]}
        pairs.append((min(a, b), max(a, b), probability[i], weight[i], vector))
    return pairs


@dataclass
class Outcome:
    model: dict  # Splink's parameters (the stored one, or the one trained now)
    pairs: list
    trained: bool  # False: predicted with a stored model, no training
    chunks: int = 1  # prediction chunks per side (``prediction_chunks``)
    # Seconds per phase (features, training, bound, prediction, features_sink): where a run's
    # time goes, reported by the job and bench/linkage.py.
    timings: dict = field(default_factory=dict)
    cpu_timings: dict = field(default_factory=dict)  # the same phases in CPU seconds (all threads)


def _cpu_seconds() -> float:
    """This process's CPU seconds, DuckDB's threads included."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Training may read only a sample of persons (a fixed pseudo-random sample by person id;
# ``STREHA_LINKAGE_TRAINING_PERSONS``, default 0: everyone). u is sampled anyway and m comes
# from blocked pairs, so a training run's extra cost then stops growing with the register;
# λ needs no rescaling, as a random sample of persons keeps the share of duplicate pairs
# among all pairs. Measured at 200,000 synthetic persons with 100,000: CPU 1.35x plain
# Splink instead of 1.99x, but F1 0.929 instead of 0.938, hence off by default.
TRAINING_PERSONS = 0


def training_table(con, db_api, table_name: str, seed: int, limit: int | None = None):
    """The registered Splink table to train on (and its rows): ``table_name`` itself, or a
    sample of ``limit`` persons (default ``TRAINING_PERSONS``; 0 is everyone)."""
    limit = TRAINING_PERSONS if limit is None else limit
    records = con.execute(f"SELECT count(*) FROM {table_name}").fetchall()[0][0]  # noqa: S608
    if not limit or records <= limit:
        return db_api.register(table_name), records
    con.execute(
        f"CREATE OR REPLACE TABLE training_features AS SELECT * FROM {table_name} "  # noqa: S608
        f"ORDER BY hash(unique_id + {int(seed)}), unique_id LIMIT {int(limit)}"
    )
    return db_api.register("training_features"), int(limit)


# The columns whose term frequencies the name comparison reads (``settings``).
TF_COLUMNS = ("full_name", "given_name", "family_name")
FEATURE_CHUNK = 50_000


def out_of_memory(exc: BaseException) -> bool:
    """Whether DuckDB's memory limit stopped ``exc`` (Splink wraps DuckDB's error in its own)."""
    import duckdb

    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, duckdb.OutOfMemoryException):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def run(
    raw,
    *,
    threshold=0.5,
    memory_limit="3GB",
    seed=1,
    model: dict | None = None,
    features_sink=None,
    training_persons: int | None = None,
):
    """Score the candidate pairs of ``raw`` (``raw_frame``) in memory; train first unless a
    stored ``model`` (Splink's JSON) is given. ``features_sink``, if given, is called with
    chunks of the model's columns (dicts of ``COLUMNS``) before the in-memory database is
    closed: the run's registration keys and name frequencies are made from them."""
    from splink import DuckDBAPI, Linker

    con = connection(memory_limit)
    timings: dict[str, float] = {}
    cpu_timings: dict[str, float] = {}
    clock = [time.perf_counter(), _cpu_seconds()]

    def lap(phase: str) -> None:
        now, cpu = time.perf_counter(), _cpu_seconds()
        timings[phase] = round(now - clock[0], 3)
        cpu_timings[phase] = round(cpu - clock[1], 3)
        clock[:] = [now, cpu]

    try:
        db_api = DuckDBAPI(connection=con)
        table_name = load_features(con, raw)
        table = db_api.register(table_name)
        lap("features")
        if model is None:
            sample, records = training_table(con, db_api, table_name, seed, training_persons)
            model = train(db_api, sample, records=records, seed=seed).model
            linker, fresh = Linker(table, model, log_level="ERROR"), True
        else:
            linker = Linker(table, current_blocking(model), log_level="ERROR")
            fresh = False
        lap("training")
        chunks = prediction_chunks(
            blocked_pairs_bound(
                con, table_name, linker._settings_obj._blocking_rules_to_generate_predictions
            ),
            memory_limit,
        )
        lap("bound")
        outcome = Outcome(
            model=model,
            pairs=predict(linker, threshold, chunks),
            trained=fresh,
            chunks=chunks,
            timings=timings,
            cpu_timings=cpu_timings,
        )
        lap("prediction")
        if features_sink is not None:
            columns = ", ".join(COLUMNS)
            cursor = con.execute(f"SELECT {columns} FROM {table_name}")  # noqa: S608 - names
            while chunk := cursor.fetchmany(FEATURE_CHUNK):
                features_sink([dict(zip(COLUMNS, row, strict=True)) for row in chunk])
            lap("features_sink")
        return outcome
    except Exception as exc:
        import duckdb

        if out_of_memory(exc) and not isinstance(exc, duckdb.OutOfMemoryException):
            # The caller stops on DuckDB's own error ("the run needs more memory"); the
            # message names the limit, never a value.
            raise duckdb.OutOfMemoryException("The run needs more memory than its limit.") from exc
        raise
    finally:
        con.close()


def _as_sql(rule) -> str:
    """A blocking rule (``block_on`` or SQL text) as its SQL text."""
    from splink.internals.blocking_analysis import _as_blocking_rule

    return _as_blocking_rule(rule, "duckdb").blocking_rule_sql


def current_blocking(model: dict) -> dict:
    """A stored model with today's blocking rules: which pairs are scored is the system's
    choice, not a trained parameter, so a model trained before a change of the rules (the
    same pairs, cheaper joins) predicts with the new ones."""
    rules = settings()["blocking_rules_to_generate_predictions"]
    return {**model, "blocking_rules_to_generate_predictions": rules}


def tf_columns(model: dict) -> list[str]:
    """The term-frequency columns a stored model reads (``tf_<column>``)."""
    found = {
        level["tf_adjustment_column"]
        for comparison in model.get("comparisons", [])
        for level in comparison.get("comparison_levels", [])
        if level.get("tf_adjustment_column")
    }
    return sorted(f"tf_{column}" for column in found)


class Scorer:
    """Splink's own scoring of one new person against a few records with a stored model
    (``compare_records`` on an in-memory DuckDB).

    The check at registration does not use it (starting DuckDB and Splink's SQL costs too
    much while someone waits: ``fast.Compiled`` scores in Python); it is the reference the
    fast path is tested against (``tests/test_fast.py``), kept beside the model's code.
    """

    def __init__(self, model: dict, *, key: str, memory_limit: str = "256MB"):
        from splink import DuckDBAPI

        self.model = model
        self.key = key
        self.con = connection(memory_limit)
        self.db_api = DuckDBAPI(connection=self.con)
        self.tf = tf_columns(model)

    def _load(self, raw, table: str, frequency=None) -> None:
        load_features(self.con, raw, table=table)
        for column in self.tf:
            self.con.execute(f"ALTER TABLE {table} ADD COLUMN {column} DOUBLE")
            if frequency is None:
                continue
            source = column.removeprefix("tf_")
            select = f"SELECT unique_id, {source} FROM {table}"  # noqa: S608 - names
            rows = self.con.execute(select).fetchall()
            for unique_id, value in rows:
                self.con.execute(
                    f"UPDATE {table} SET {column} = ? WHERE unique_id = ?",  # noqa: S608
                    [frequency(source, value), unique_id],
                )

    def score(self, new_raw, candidates_raw, threshold: float, frequency=None):
        """``[(candidate id, probability, weight, vector)]`` at or above ``threshold``;
        ``frequency(column, value)`` gives the term frequencies (else they are neutral)."""
        from splink.internals.realtime import compare_records

        self._load(new_raw, "registration_new", frequency)
        self._load(candidates_raw, "registration_candidates", frequency)
        try:
            result = compare_records(
                "registration_new",
                "registration_candidates",
                self.model,
                self.db_api,
                sql_cache_key=self.key,
            )
            frame = result.as_pandas_dataframe()
            result.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        finally:
            self.con.execute("DROP TABLE IF EXISTS registration_new")
            self.con.execute("DROP TABLE IF EXISTS registration_candidates")
        frame = frame[frame["match_probability"] >= threshold]
        scored = []
        for row in frame.to_dict("records"):
            scored.append(
                (
                    int(row["unique_id_r"]),
                    float(row["match_probability"]),
                    float(row["match_weight"]),
                    comparison_vector(row),
                )
            )
        return scored

    def close(self) -> None:
        self.con.close()
