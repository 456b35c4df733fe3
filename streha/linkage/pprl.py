"""Privacy-preserving linkage with partners: Bloom-filter CLKs (clkhash) matched by anonlink.

Each side encodes its persons with the linkage schema and the shared secret agreed out of
band; only the encodings (and pseudonyms) cross the border. The secret is read from a file
or the environment at run time and never written beside the data. Names go through the same
folding as the duplicate model (``engine.fold``: Albanian/Serbian spellings, diacritics), so
"Thaçi" encoded by one side matches "Thaci" encoded by the other.

Needs the optional extra ``pprl`` (clkhash 0.18.3 declares cryptography<41; the project's
locks override that pin, and this module uses only what cryptography 50 still provides).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from streha.linkage import engine

DEFAULT_SCHEMA = Path(__file__).resolve().parent / "data" / "pprl-schema.json"
FORMAT = "streha-pprl/1"


class PprlError(ValueError):
    """A file or a secret that cannot be used (the message names no person)."""


def load_schema(path: str | Path | None = None):
    from clkhash import schema

    try:
        with open(path or DEFAULT_SCHEMA, encoding="utf-8") as handle:
            return schema.from_json_dict(json.load(handle))
    except (OSError, ValueError, KeyError) as exc:
        raise PprlError(f"The linkage schema cannot be used: {type(exc).__name__}.") from exc


def pii_row(identity: engine.Identity) -> list[str]:
    """The schema's fields, in its order, normalised like the duplicate model's."""
    row = engine.features(identity)
    return [
        row["given_name"] or "",
        row["family_name"] or "",
        row["dob"] or "",
        row["sex"] or "",
        row["personal_number"] or "",
    ]


def pseudonym(secret: bytes, reference: str) -> str:
    """Stable per partner secret; only the holder of the secret and the records can invert it."""
    return hmac.new(secret, reference.encode(), hashlib.sha256).hexdigest()[:20]


def _set_token_bits_at_once() -> None:
    """Make clkhash set each field's Bloom-filter bits in one bitarray call instead of one
    Python assignment per bit (~2,000 a person: most of the encoding time), in this process.

    Same tokens, same keyed BLAKE2 hashes (clkhash's own ``blake_hash_token``), same bits:
    ``test_pprl.py::test_encoding_is_clkhashs_own_bit_for_bit`` compares the result with
    clkhash's unpatched function, so a partner running plain clkhash gets equal CLKs."""
    from functools import lru_cache

    from bitarray import bitarray
    from clkhash import bloomfilter

    if getattr(bloomfilter._blake_encode_ngrams, "streha_at_once", False):
        return
    original = bloomfilter._blake_encode_ngrams

    @lru_cache(maxsize=bloomfilter.TOKEN_CACHE_SIZE)
    def token_bits(token: bytes, k: int, key: bytes, l: int):  # noqa: E741
        bits = bitarray(l)
        bits.setall(False)
        bits[bloomfilter.blake_hash_token(token, k, key, l)] = 1
        return bits

    @lru_cache(maxsize=bloomfilter.NGRAM_CACHE_SIZE)
    def at_once(ngrams, key, ks, l, encoding):  # noqa: E741 - clkhash's own parameter name
        if l & (l - 1) or l <= 0:
            return original(ngrams, key, ks, l, encoding)  # clkhash raises its own error
        bits = bitarray(l)
        bits.setall(False)
        for ngram, k in zip(ngrams, ks, strict=False):
            bits |= token_bits(ngram.encode(encoding=encoding), k, key, l)
        return bits

    at_once.streha_at_once = True
    at_once.original = original
    at_once.token_bits = token_bits
    bloomfilter._blake_encode_ngrams = at_once


def encode(rows: list[list[str]], secret: bytes, schema) -> list[str]:
    """One CLK per row, in this process (no worker pool: a pool costs more than it saves
    for the registers this system holds, and would copy identities to other processes)."""
    from clkhash import clk
    from clkhash.serialization import serialize_bitarray

    if len(secret) < 16:
        raise PprlError("The shared secret must be at least 16 bytes.")
    _set_token_bits_at_once()
    clks = clk.generate_clks(rows, schema, secret, validate=True, max_workers=1)
    return [serialize_bitarray(b) for b in clks]


def write(path: str | Path, pseudonyms: list[str], clks: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"format": FORMAT, "pseudonyms": pseudonyms, "clks": clks}, handle)


def read(path: str | Path) -> tuple[list[str], list]:
    from clkhash.serialization import deserialize_bitarray

    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != FORMAT or len(data["pseudonyms"]) != len(data["clks"]):
            raise PprlError("The file is not a Streha PPRL encoding.")
        return list(data["pseudonyms"]), [deserialize_bitarray(c) for c in data["clks"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, PprlError):
            raise
        raise PprlError(f"The file cannot be read: {type(exc).__name__}.") from exc


@dataclass
class Overlap:
    common: int
    pairs: list[tuple[str, str, float]]


def _anonlink():
    """anonlink's three modules this system uses, imported without ``pkg_resources``.

    anonlink's ``__init__`` imports ``pkg_resources`` only to read its own version number
    (``get_distribution('anonlink').version``); importing ``pkg_resources`` scans every
    installed distribution and cost most of the first match call in a process (~0.8 s of
    the cold ``streha pprl match``, measured by ``python -X importtime``). While anonlink is
    imported, a stand-in answering that one call from ``importlib.metadata`` (the same
    version string, read from the same installed metadata) sits in ``sys.modules``; it is
    removed at once, so any later ``import pkg_resources`` gets the real module. Nothing
    else of anonlink uses ``pkg_resources`` (0.15.3; ``test_pprl.py`` checks the modules and
    the version)."""
    import sys

    if "anonlink" not in sys.modules and "pkg_resources" not in sys.modules:
        import types
        from importlib import metadata

        stand_in = types.ModuleType("pkg_resources")
        stand_in.get_distribution = lambda name: types.SimpleNamespace(
            version=metadata.version(name)
        )
        sys.modules["pkg_resources"] = stand_in
        try:
            import anonlink  # noqa: F401
        finally:
            if sys.modules.get("pkg_resources") is stand_in:
                del sys.modules["pkg_resources"]
    from anonlink import candidate_generation, similarities, solving

    return candidate_generation, similarities, solving


def match(ours: list, theirs: list, *, threshold: float = 0.75) -> list[tuple[int, int, float]]:
    """One-to-one matches (index in ours, index in theirs, Dice similarity) above threshold."""
    candidate_generation, similarities, solving = _anonlink()

    if not ours or not theirs:
        return []
    candidates = candidate_generation.find_candidate_pairs(
        [ours, theirs], similarities.dice_coefficient_accelerated, threshold
    )
    sims, datasets, records = candidates
    scores = {
        (d1, r1, d2, r2): float(sim)
        for sim, d1, d2, r1, r2 in zip(
            sims, datasets[0], datasets[1], records[0], records[1], strict=True
        )
    }
    pairs = []
    for group in solving.greedy_solve(candidates):
        if len(group) != 2:
            continue
        (d1, r1), (d2, r2) = sorted(group)
        pairs.append((r1, r2, scores.get((d1, r1, d2, r2), 0.0)))
    return sorted(pairs)


def overlap(ours_path, theirs_path, *, threshold: float = 0.75) -> Overlap:
    our_ids, our_clks = read(ours_path)
    their_ids, their_clks = read(theirs_path)
    found = match(our_clks, their_clks, threshold=threshold)
    return Overlap(
        common=len(found),
        pairs=[(our_ids[i], their_ids[j], round(score, 4)) for i, j, score in found],
    )


def secret_from(value: str | None = None, *, path: str | None = None) -> bytes:
    if path:
        try:
            data = Path(path).read_bytes().strip()
        except OSError as exc:
            raise PprlError("The secret file cannot be read.") from exc
    else:
        data = (value or "").encode()
    if len(data) < 16:
        raise PprlError("The shared secret must be at least 16 bytes.")
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rows_of(identities: Iterable[engine.Identity]) -> list[list[str]]:
    return [pii_row(identity) for identity in identities]
