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


IDENTITIES = [
    engine.Identity(1, "Vjollcë", "KRASNIQI", datetime.date(1998, 3, 2), None, "feminine", "XK",
                    "12-345 678", "p 1234567", "+383 44 123 456"),
    engine.Identity(2, "Vjolla Marie", "Thaçi", None, 1998, "unknown", "", "", "", "00383 44"),
    engine.Identity(3, "Џемајл", "Ђорђевић", "1971-11-20", None, "", "RS", "", "", ""),
    engine.Identity(4, " Saša ", "Šala-Gjergj", None, None, "masculine", "AL", "", "", "044123"),
    engine.Identity(5, "", "O'Neill", None, None, "", "", "", "", ""),
    engine.Identity(6, "Љиљана", "Њего Çeku", "2001-01-09", 2001, "", "", "x", "", "12345"),
]  # fmt: skip


def test_sql_features_equal_python():
    """The run computes the features in DuckDB (``load_features``); the rules are those of
    ``features`` (used by PPRL), so both must give the same columns for the same person."""
    con = engine.connection("256MB")
    try:
        engine.load_features(con, engine.raw_frame(engine.raw_columns(IDENTITIES)))
        rows = con.execute("SELECT * FROM person_features ORDER BY unique_id").fetchall()
        columns = [d[0] for d in con.description]
    finally:
        con.close()
    assert columns == [*engine.COLUMNS, *engine.BLOCKING_COLUMNS]
    expected = [engine.features(identity) for identity in IDENTITIES]
    found = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [{name: row[name] for name in engine.COLUMNS} for row in found] == expected
    # The blocking keys: first letter, first two, first and last (None without the name).
    for row in found:
        for side in ("given", "family"):
            name = row[f"{side}_name"]
            assert row[f"{side}_i1"] == (name[:1] if name else None)
            assert row[f"{side}_i2"] == (name[:2] if name else None)
            assert row[f"{side}_ends"] == (name[0] + name[-1] if name else None)


def test_the_scorer_scores_a_new_record_against_candidates_with_a_stored_model():
    base = dict(given_name="Arta", family_name="Berisha", date_of_birth="1990-04-05",
                sex="feminine", citizenship="XK", personal_number="1234567890")  # fmt: skip
    others = [
        engine.Identity(10 + i, given, family, f"19{60 + i}-0{1 + i % 9}-1{i % 9}", None,
                        "feminine", "XK", f"99{i}")
        for i, (given, family) in enumerate(
            [("Drita", "Gashi"), ("Nora", "Hoxha"), ("Teuta", "Morina"), ("Hana", "Shala")] * 5
        )
    ]  # fmt: skip
    records = [engine.Identity(1, **base), engine.Identity(2, **{**base, "given_name": "Artë"})]
    outcome = engine.run(engine.raw_frame(engine.raw_columns(records + others)))
    scorer = engine.Scorer(outcome.model, key="test-scorer")
    try:
        new = engine.raw_frame(engine.raw_columns([engine.Identity(99, **base)]))
        candidates = engine.raw_frame(engine.raw_columns(records + others[:3]))
        first = scorer.score(new, candidates, 0.5)
        again = scorer.score(new, candidates, 0.5)  # the cached SQL
    finally:
        scorer.close()
    assert sorted(pk for pk, *_ in first) == [1, 2]
    assert first == again


def test_training_reads_a_fixed_sample_of_a_large_register(monkeypatch):
    """Asked to (``STREHA_LINKAGE_TRAINING_PERSONS``), the model is trained on a pseudo-random
    sample by person id: the same sample every run (deterministic)."""
    from splink import DuckDBAPI

    identities = [
        engine.Identity(i, ("Arta", "Drita", "Nora")[i % 3], f"Gashi{i % 17}", None, 1980 + i % 30)
        for i in range(120)
    ]
    monkeypatch.setattr(engine, "TRAINING_PERSONS", 40)
    con = engine.connection("256MB")
    try:
        db_api = DuckDBAPI(connection=con)
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities)))
        samples = []
        for _ in range(2):
            _, records = engine.training_table(con, db_api, table, seed=1)
            ids = con.execute("SELECT unique_id FROM training_features ORDER BY 1").fetchall()
            samples.append([i for (i,) in ids])
        _, other_seed = engine.training_table(con, db_api, table, seed=2)
        other = con.execute("SELECT unique_id FROM training_features ORDER BY 1").fetchall()
    finally:
        con.close()
    assert records == 40 and len(samples[0]) == 40 and samples[0] == samples[1]
    assert set(samples[0]) < {i.person_id for i in identities}
    assert [i for (i,) in other] != samples[0]  # a different seed, a different sample
    monkeypatch.setattr(engine, "TRAINING_PERSONS", 3)
    small = engine.training_table  # below the limit the table itself is used
    con = engine.connection("256MB")
    try:
        db_api = DuckDBAPI(connection=con)
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities[:3])))
        assert small(con, db_api, table, seed=1)[1] == 3
        assert con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'training_features'"
        ).fetchall() == [(0,)]
    finally:
        con.close()


def _edits(seed: int, count: int):
    """Seeded pairs of values: one edit apart (every kind, at every position), two apart,
    unrelated, short and long, so the guard meets its edge cases."""
    import random

    rng = random.Random(seed)
    alphabet = "0123456789-P"
    pairs = []
    for _ in range(count):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(2, 14)))
        kind = rng.randrange(6)
        i = rng.randrange(len(text))
        if kind == 0:
            other = text[:i] + rng.choice(alphabet) + text[i + 1 :]
        elif kind == 1:
            other = text[:i] + rng.choice(alphabet) + text[i:]
        elif kind == 2:
            other = text[:i] + text[i + 1 :]
        elif kind == 3 and i + 1 < len(text):
            other = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        elif kind == 4:
            other = "".join(rng.choice(alphabet) for _ in range(len(text)))
        else:
            j = rng.randrange(len(text))
            other = text[:i] + rng.choice(alphabet) + text[i + 1 :]
            other = other[:j] + rng.choice(alphabet) + other[j + 1 :]
        pairs.append((text, other or "0"))
    return pairs


def test_the_near_level_guard_changes_no_level():
    """``near_sql`` puts a cheap necessary condition before the distance: in DuckDB and in the
    Python scorer it must hold exactly where ``damerau_levenshtein <= 1`` holds, for every
    kind of edit at every position (a guard that also rejected true near values, e.g. with
    longer ends, fails here)."""
    import pandas as pd

    from streha.linkage import fast

    pairs = _edits(seed=14, count=4000)
    con = engine.connection("256MB")
    try:
        con.register("edits", pd.DataFrame(pairs, columns=["code_l", "code_r"]))
        rows = con.execute(
            f"SELECT code_l, code_r, damerau_levenshtein(code_l, code_r) <= 1, "  # noqa: S608
            f"{engine.near_sql('code')} FROM edits"
        ).fetchall()
    finally:
        con.close()
    near = sum(1 for row in rows if row[2])
    assert near > 1000 and len(rows) - near > 1000  # both outcomes well represented
    assert [row[2] for row in rows] == [row[3] for row in rows]
    guarded = fast.compile_condition(engine.near_sql("code"))
    assert [bool(guarded({"code": a}, {"code": b})) for a, b, *_ in rows] == [r[2] for r in rows]
    # From 10 characters the guard compares four at each end: two dates of the same decade
    # (the first three equal) no longer reach the distance.
    guard = fast.compile_condition(engine.near_guard_sql("code"))
    assert not guard({"code": "1990-01-01"}, {"code": "1995-07-23"})
    assert guard({"code": "1990-01-01"}, {"code": "1990-07-23"})  # the same year
    assert guard({"code": "12345678"}, {"code": "12399999"})  # 8 or 9 long: three at each end


def test_prediction_in_chunks_finds_the_same_pairs_and_the_bound_sets_their_number():
    """A large register is predicted in chunks so that DuckDB's memory limit holds one chunk
    of blocked pairs, not all of them: the pairs and their scores are those of one pass."""
    from splink import DuckDBAPI, Linker

    identities = [
        engine.Identity(i, ("Arta", "Drita", "Nora")[i % 3], f"Gashi{i % 7}",
                        f"19{70 + i % 20}-0{1 + i % 9}-1{i % 10}", None, "feminine", "XK",
                        f"12345{i % 40:03d}")
        for i in range(160)
    ]  # fmt: skip
    outcome = engine.run(engine.raw_frame(engine.raw_columns(identities)), threshold=0.01)
    con = engine.connection("256MB")
    try:
        db_api = DuckDBAPI(connection=con)
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities)))
        linker = Linker(db_api.register(table), outcome.model, log_level="ERROR")
        bound = engine.blocked_pairs_bound(
            con, table, linker._settings_obj._blocking_rules_to_generate_predictions
        )
        whole = sorted(engine.predict(linker, 0.01, chunks=1))
        chunked = sorted(engine.predict(linker, 0.01, chunks=3))
    finally:
        con.close()
    assert whole and chunked == whole
    # 160 persons in 21 name groups: the equal-names rule alone makes > 500 pairs.
    assert bound >= 500
    assert engine.prediction_chunks(bound, "1GB") == 1
    assert engine.prediction_chunks(100_000_000, "1GB") == 4  # 10 million pairs a chunk
    assert engine.memory_bytes("2GiB") == 2 * 1024**3 and engine.memory_bytes("512MB") == 512e6


def test_training_leaves_no_session_tables_for_prediction_to_carry():
    """EM sessions' blocked pairs and comparison vectors are dropped once read: at 1M persons
    they held most of the memory limit that prediction then lacked."""
    from splink import DuckDBAPI

    identities = [
        engine.Identity(i, ("Arta", "Drita", "Nora")[i % 3], f"Gashi{i % 9}",
                        f"19{70 + i % 20}-0{1 + i % 9}-1{i % 10}", None, "feminine", "XK")
        for i in range(90)
    ]  # fmt: skip
    con = engine.connection("256MB")
    try:
        db_api = DuckDBAPI(connection=con)
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities)))
        engine.train(db_api, db_api.register(table), records=len(identities))
        left = [
            name
            for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            if name.startswith(engine.SESSION_TABLES)
        ]
    finally:
        con.close()
    assert left == []


def test_an_em_session_over_a_large_block_reads_a_fixed_sample_of_its_pairs(monkeypatch):
    """Above ``EM_PAIRS`` a session's rule keeps a pseudo-random share of its pairs, the same
    every run for a seed; below it the rule is the plain equality."""
    identities = [
        engine.Identity(i, ("Arta", "Drita")[i % 2], "Gashi", f"19{70 + i % 3}-01-0{1 + i % 2}")
        for i in range(120)
    ]
    con = engine.connection("256MB")
    try:
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities)))
        plain = engine.em_rules(con, table)
        monkeypatch.setattr(engine, "EM_PAIRS", 1000)
        sampled = engine.em_rules(con, table)
        again = engine.em_rules(con, table)

        def pairs(rule):
            from splink.internals.blocking_analysis import _as_blocking_rule

            sql = _as_blocking_rule(rule, "duckdb").blocking_rule_sql
            return con.execute(
                f"SELECT l.unique_id, r.unique_id FROM {table} l JOIN {table} r "  # noqa: S608
                f"ON {sql} WHERE l.unique_id < r.unique_id ORDER BY 1, 2"
            ).fetchall()

        whole, share, share_again = pairs(plain[0]), pairs(sampled[0]), pairs(again[0])
    finally:
        con.close()
    assert len(whole) == 60 * 59  # two names, 60 persons each
    assert set(share) < set(whole) and share == share_again
    assert 0.15 * len(whole) < len(share) < 0.4 * len(whole)  # about 1 in ceil(3540/1000) = 4
    assert not any(isinstance(rule, str) for rule in plain)  # below the cap: Splink's own rules
    assert isinstance(sampled[0], str)


def _small_register():
    return [
        engine.Identity(i, ("Arta", "Drita", "Nora")[i % 3], f"Gashi{i % 9}",
                        f"19{70 + i % 20}-0{1 + i % 9}-1{i % 10}", None, "feminine", "XK")
        for i in range(90)
    ]  # fmt: skip


def test_memory_running_out_in_training_stops_the_run_instead_of_leaving_it_untrained(
    monkeypatch,
):
    """Splink wraps DuckDB's out-of-memory error; an EM session that fails for lack of pairs
    is skipped, but one that ran out of memory must stop the run with DuckDB's error (the job
    then says the run needs more memory) rather than store a model without its m values."""
    import duckdb
    from splink.internals.exceptions import SplinkException
    from splink.internals.linker_components.training import LinkerTraining

    def out_of_memory(self, *args, **kwargs):
        try:
            raise duckdb.OutOfMemoryException("could not allocate block")
        except duckdb.OutOfMemoryException as exc:
            raise SplinkException("Error executing the following sql") from exc

    def too_few_pairs(self, *args, **kwargs):
        raise SplinkException("no comparisons to estimate")

    raw = engine.raw_frame(engine.raw_columns(_small_register()))
    monkeypatch.setattr(
        LinkerTraining, "estimate_parameters_using_expectation_maximisation", too_few_pairs
    )
    assert engine.run(raw).trained
    monkeypatch.setattr(
        LinkerTraining, "estimate_parameters_using_expectation_maximisation", out_of_memory
    )
    with pytest.raises(duckdb.OutOfMemoryException):
        engine.run(raw)


def _blocked_pairs(identities) -> set[tuple[int, int]]:
    """The pairs the blocking rules let through (any rule), evaluated in DuckDB."""
    from splink.internals.blocking_analysis import _as_blocking_rule

    con = engine.connection("256MB")
    try:
        table = engine.load_features(con, engine.raw_frame(engine.raw_columns(identities)))
        union = " OR ".join(
            f"({_as_blocking_rule(rule, 'duckdb').blocking_rule_sql})"
            for rule in engine.blocking_rules()
        )
        sql = (
            f"SELECT l.unique_id, r.unique_id FROM {table} l JOIN {table} r "  # noqa: S608
            f"ON l.unique_id < r.unique_id WHERE coalesce({union}, false)"
        )
        return set(con.execute(sql).fetchall())
    finally:
        con.close()


def test_blocking_finds_both_names_misspelt_swapped_or_without_a_year():
    """The misspellings the ten rules before missed (3.4 % of the synthetic duplicates: both
    names misspelt inside, names swapped and misspelt, one side without a year) are blocked,
    and those it found still are (the same date of birth, both names changed)."""
    identities = [
        engine.Identity(1, "Njomza", "Hasani", "1977-10-25"),
        engine.Identity(2, "Niomza", "Hasai", None, 1977),
        engine.Identity(3, "Jehona", "Trajkovich", "1989-08-31"),
        engine.Identity(4, "Traikovich", "Jehna", None, 1989),
        engine.Identity(5, "Milica", "Todorović", "1991-06-20", None, "feminine"),
        engine.Identity(6, "Mlica", "Todrović", None, None, "feminine"),
        engine.Identity(7, "Arta", "Gashi", "2000-01-01"),
        engine.Identity(8, "Lazar", "Simić", "2000-01-01"),
        engine.Identity(11, "Besa", "Morina", "1985-02-03"),
        engine.Identity(12, "Drita", "Hoxha", "1986-07-08"),
        engine.Identity(9, "Vjollca", "Krasniqi", "1998-03-02"),
        engine.Identity(10, "Violeta", "Kelmendi", "1998-03-02"),
    ]
    blocked = _blocked_pairs(identities)
    assert {(1, 2), (3, 4), (5, 6), (7, 8), (9, 10)} <= blocked
    assert (11, 12) not in blocked


# The blocking rules as they were written before the key columns (session 8): the names'
# initials and first-and-last letters computed in every rule.
def _expression_rules() -> list:
    from splink import block_on

    def ends(side, column):
        return f"substr({side}.{column}, 1, 1) || right({side}.{column}, 1)"

    initials = (
        "substr(l.given_name, 1, 2) = substr(r.given_name, 1, 2) and "
        "substr(l.family_name, 1, 2) = substr(r.family_name, 1, 2)"
    )
    swapped_initials = (
        "substr(l.given_name, 1, 2) = substr(r.family_name, 1, 2) and "
        "substr(l.family_name, 1, 2) = substr(r.given_name, 1, 2)"
    )
    same_ends = (
        f"{ends('l', 'given_name')} = {ends('r', 'given_name')} and "
        f"{ends('l', 'family_name')} = {ends('r', 'family_name')}"
    )
    swapped_ends = (
        f"{ends('l', 'given_name')} = {ends('r', 'family_name')} and "
        f"{ends('l', 'family_name')} = {ends('r', 'given_name')}"
    )
    no_year = "l.sex = r.sex and (l.birth_year is null or r.birth_year is null)"
    return [
        block_on("given_name", "family_name"),
        block_on("personal_number"),
        block_on("passport_number"),
        block_on("phone_number"),
        "l.given_name = r.family_name and l.family_name = r.given_name",
        block_on("family_name", "birth_year", "substr(given_name, 1, 1)"),
        block_on("given_name", "birth_year", "substr(family_name, 1, 1)"),
        f"{initials} and l.birth_year = r.birth_year",
        f"{initials} and {no_year}",
        f"{same_ends} and l.birth_year = r.birth_year",
        f"{same_ends} and {no_year}",
        f"{swapped_initials} and l.birth_year = r.birth_year",
        f"{swapped_ends} and l.birth_year = r.birth_year",
        f"{swapped_ends} and {no_year}",
        block_on("dob"),
    ]


def _seeded_identities(n: int = 400) -> list:
    import random

    rng = random.Random(11)
    # Names that share initials or first and last letters, misspelt, and some given names
    # that are others' family names (swapped).
    given = ["Arta", "Arte", "Drita", "Dritë", "Nora", "Mira", "Mila", "Ana", "An", "Gashi", None]
    family = ["Gashi", "Gash", "Hoxha", "Hoxa", "Berisha", "Bersha", "Ko", "Arta", "Nora", None]
    identities = []
    for i in range(n):
        year = rng.choice([1990, 1991, None])
        dob = (
            f"{year}-0{rng.randint(1, 2)}-1{rng.randint(0, 1)}"
            if year and rng.random() < 0.5
            else None
        )
        identities.append(
            engine.Identity(
                i + 1,
                rng.choice(given) or "",
                rng.choice(family) or "",
                dob,
                year if not dob else None,
                rng.choice(["feminine", "masculine", ""]),
                "XK",
                rng.choice(["", "", "123456789", "123456780"]),
                rng.choice(["", "", "P1"]),
                rng.choice(["", "", "+383 44 123 456"]),
            )
        )
    return identities


def _pairs_of_rule(con, table: str, rule) -> set:
    from splink.internals.blocking_analysis import _as_blocking_rule

    sql = _as_blocking_rule(rule, "duckdb").blocking_rule_sql
    return set(
        con.execute(
            f"SELECT l.unique_id, r.unique_id FROM {table} l JOIN {table} r "  # noqa: S608
            f"ON l.unique_id < r.unique_id WHERE coalesce({sql}, false)"
        ).fetchall()
    )


# Which of ``engine.blocking_rules()`` replace each rule of ``_expression_rules()``: the
# rules for a side without a year are split in two (the left has none; the right has none).
REPLACED_BY = [[0], [1], [2], [3], [4], [5], [6], [7], [8, 9], [10], [11, 12], [13], [14],
               [15, 16], [17]]  # fmt: skip


def test_blocking_on_key_columns_gives_every_rule_the_pairs_of_its_expressions():
    """The rules on the key columns (``BLOCKING_COLUMNS``), a side without a year as two
    rules, let through exactly the pairs the rules on the names' substrings did: the same
    recall, and the same pairs for the later rules to leave out."""
    rules = engine.blocking_rules()
    assert sorted(i for group in REPLACED_BY for i in group) == list(range(len(rules)))
    con = engine.connection("256MB")
    try:
        table = engine.load_features(
            con, engine.raw_frame(engine.raw_columns(_seeded_identities()))
        )
        for old, group in zip(_expression_rules(), REPLACED_BY, strict=True):
            pairs = set().union(*(_pairs_of_rule(con, table, rules[i]) for i in group))
            assert pairs == _pairs_of_rule(con, table, old)
            assert pairs  # not vacuous: every rule lets some of the seeded pairs through
        for group in REPLACED_BY:
            if len(group) == 2:  # "the left has no year" and "the right has none" both occur
                assert all(_pairs_of_rule(con, table, rules[i]) for i in group)
    finally:
        con.close()


def test_the_bound_of_a_rule_is_its_pairs_sharing_keys():
    """``blocked_pairs_bound`` (one grouping for rules with the same keys on both sides, a join
    of two groupings for the swapped ones and those with a condition on one side) counts the
    pairs sharing the rule's equality keys (and its one-side condition)."""
    from splink.internals.blocking_analysis import _as_blocking_rule

    con = engine.connection("256MB")
    try:
        table = engine.load_features(
            con, engine.raw_frame(engine.raw_columns(_seeded_identities()))
        )
        for rule in engine.blocking_rules():
            parsed = _as_blocking_rule(rule, "duckdb")
            equal = " AND ".join(f"l.{a} = r.{b}" for a, b in parsed._equi_join_conditions)
            # A side without a year: on that side only (block_on rules say "TRUE").
            filters = parsed._filter_conditions if parsed._filter_conditions != "TRUE" else ""
            sharing = con.execute(
                f"SELECT count(*) FROM {table} l JOIN {table} r ON {equal} "  # noqa: S608
                f"WHERE {filters or 'true'}"
            ).fetchall()[0][0]
            # Pairs under a one-side condition are counted once as (l, r), else both ways.
            expected = sharing if filters else sharing // 2
            assert engine.blocked_pairs_bound(con, table, [rule]) == expected
    finally:
        con.close()


def test_a_stored_model_predicts_with_todays_blocking_rules():
    """Which pairs are scored is not a trained parameter: a model stored with the rules of an
    earlier session (the substring forms) predicts with today's, and finds the same pairs."""
    identities = _seeded_identities(200)
    raw = engine.raw_frame(engine.raw_columns(identities))
    trained = engine.run(raw, threshold=0.2)
    old = [
        {"blocking_rule": engine._as_sql(rule), "sql_dialect": "duckdb"}
        for rule in _expression_rules()
    ]
    stored = {**trained.model, "blocking_rules_to_generate_predictions": old}
    current = engine.current_blocking(stored)
    assert (
        current["blocking_rules_to_generate_predictions"]
        == (engine.settings()["blocking_rules_to_generate_predictions"])
    )
    assert current["comparisons"] == trained.model["comparisons"]
    again = engine.run(raw, threshold=0.2, model=stored)
    assert again.pairs and sorted(again.pairs) == sorted(trained.pairs)
