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

from django.utils.translation import gettext as _

from streha.linkage import engine

DEFAULT_SCHEMA = Path(__file__).resolve().parent / "data" / "pprl-schema.json"
FORMAT = "streha-pprl/1"


class PprlError(ValueError):
    """A file or a secret that cannot be used (the message names no person)."""


def _clkhash():
    """clkhash's schema module (importing clkhash, which needs jsonschema: its name lists
    validate their own schema when imported)."""
    from clkhash import schema

    return schema


def require_encoding() -> None:
    """Raise ImportError unless clkhash can be imported."""
    _clkhash()


def load_schema(path: str | Path | None = None):
    """The linkage schema of ``path`` (validated against clkhash's master schema), or the
    bundled one (``DEFAULT_SCHEMA``, validated by the tests)."""
    schema = _clkhash()
    try:
        with open(path or DEFAULT_SCHEMA, encoding="utf-8") as handle:
            return schema.from_json_dict(json.load(handle), validate=path is not None)
    except (OSError, ValueError, KeyError, schema.SchemaError) as exc:
        raise PprlError(
            _("The linkage schema cannot be used: %(error)s.") % {"error": type(exc).__name__}
        ) from exc


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

    _clkhash()
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


# Distinct values per field whose bits ``encode`` keeps (a bound on its memory: ~250 bytes a
# value at 1,024 bits; values beyond it are encoded each time, as clkhash does).
ENCODED_VALUES_KEPT = 50_000


def encode(rows: list[list[str]], secret: bytes, schema) -> list[str]:
    """One CLK per row, in this process (no worker pool: a pool costs more than it saves
    for the registers this system holds, and would copy identities to other processes).

    clkhash's ``generate_clks`` step for step (its key derivation, row-length check, field
    validation, tokenisers, hash functions and XOR folding), but each field's bits are
    computed and its value validated once per distinct value (given names, family names and
    sexes repeat) instead of once per row. ``test_pprl.py`` compares the CLKs with plain
    clkhash's, bit for bit. An invalid entry stops the encoding with its row and field,
    never its value."""
    from bitarray import bitarray

    _clkhash()
    from clkhash import bloomfilter
    from clkhash.field_formats import InvalidEntryError
    from clkhash.key_derivation import generate_key_lists
    from clkhash.validate_data import FormatError, validate_row_lengths

    if len(secret) < 16:
        raise PprlError(_("The shared secret must be at least 16 bytes."))
    _set_token_bits_at_once()
    fields = schema.fields
    keys = generate_key_lists(
        secret,
        len(fields),
        key_size=schema.kdf_key_size,
        salt=schema.kdf_salt,
        info=schema.kdf_info,
        kdf=schema.kdf_type,
        hash_algo=schema.kdf_hash,
    )
    try:
        validate_row_lengths(fields, rows)
    except FormatError as exc:
        raise PprlError(_("A row does not have the linkage schema's fields.")) from exc
    hash_l = schema.l * 2**schema.xor_folds
    empty = bitarray(hash_l)
    empty.setall(False)
    plans = []
    for field, key in zip(fields, keys, strict=True):
        fhp = field.hashing_properties
        hashing = bloomfilter.hashing_function_from_properties(fhp) if fhp else None
        plans.append((field, fhp, hashing, key, {}))
    clks = []
    for index, row in enumerate(rows):
        bloom = empty.copy()
        for entry, (field, fhp, hashing, key, known) in zip(row, plans, strict=True):
            bits = known.get(entry)
            if bits is None:
                try:
                    field.validate(entry)
                except InvalidEntryError:
                    raise PprlError(
                        _("Row %(row)d does not fit the linkage schema (field '%(field)s').")
                        % {"row": index, "field": field.identifier}
                    ) from None
                bits = False  # valid, and no bits to set
                if fhp:
                    ngrams = list(fhp.comparator.tokenize(field.format_value(entry)))
                    if ngrams:
                        bits = hashing(
                            ngrams, key, fhp.strategy.bits_per_token(len(ngrams)), hash_l,
                            fhp.encoding,
                        )  # fmt: skip
                if len(known) < ENCODED_VALUES_KEPT:
                    known[entry] = bits
            if bits is not False:
                bloom |= bits
        clks.append(base64.b64encode(bloomfilter.fold_xor(bloom, schema.xor_folds).tobytes()))
    return [clk.decode("utf8") for clk in clks]


def write(path: str | Path, pseudonyms: list[str], clks: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"format": FORMAT, "pseudonyms": pseudonyms, "clks": clks}, handle)


def deserialize_bitarray(text: str):
    """A CLK from its base64 text: clkhash's own ``serialization.deserialize_bitarray``, line
    for line, without importing clkhash (its package imports jsonschema and its name lists,
    which a match does not need)."""
    from bitarray import bitarray

    bits = bitarray()
    bits.frombytes(base64.b64decode(text.encode(encoding="UTF-8", errors="strict")))
    return bits


def read(path: str | Path) -> tuple[list[str], list]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("format") != FORMAT or len(data["pseudonyms"]) != len(data["clks"]):
            raise PprlError(_("The file is not a Streha PPRL encoding."))
        return list(data["pseudonyms"]), [deserialize_bitarray(c) for c in data["clks"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, PprlError):
            raise
        message = _("The file cannot be read: %(error)s.") % {"error": type(exc).__name__}
        raise PprlError(message) from exc


@dataclass
class Overlap:
    common: int
    pairs: list[tuple[str, str, float]]


def _native(package: str, name: str):
    """One of anonlink's compiled modules (``anonlink.<package>.<name>``), loaded from its
    installed file without importing the ``anonlink`` package: its ``__init__`` imports every
    submodule, and with them NumPy (only to sort the similarities), which cost more than the
    match itself in a fresh process. The module is registered under its own name, so a later
    ``import anonlink`` finds it and does not load it twice. Both modules import only the
    standard library (``collections.abc``, ``array``)."""
    import importlib.machinery
    import importlib.util
    import sys
    import types

    full = f"anonlink.{package}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    top = importlib.util.find_spec("anonlink")  # finds the package, does not import it
    if top is None or not top.submodule_search_locations:
        raise ImportError("anonlink is not installed")
    folder = Path(next(iter(top.submodule_search_locations))) / package
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.exists():
            break
    else:
        raise ImportError(f"{full} is not installed")
    # Cython tries each of the module's imports (``array``, ``collections.abc``) relative to
    # its package first, which would import the package: while it loads, empty stand-ins of
    # the parent packages (finding nothing) make those attempts fail at once and Cython takes
    # the standard library's; they are removed right after, so a later ``import anonlink``
    # gets the real package.
    stand_ins = {}
    for parent in ("anonlink", f"anonlink.{package}"):
        if parent not in sys.modules:
            stand_ins[parent] = sys.modules[parent] = types.ModuleType(parent)
            stand_ins[parent].__path__ = []
    loader = importlib.machinery.ExtensionFileLoader(full, str(path))
    spec = importlib.util.spec_from_file_location(full, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[full]
        raise
    finally:
        for parent, stand_in in stand_ins.items():
            if sys.modules.get(parent) is stand_in:
                del sys.modules[parent]
    return module


def require_matching() -> None:
    """Raise ImportError unless anonlink's compiled Dice and greedy solver can be loaded."""
    _native("similarities", "_dice")
    _native("solving", "_multiparty_solving")


def candidate_pairs(ours: list, theirs: list, threshold: float):
    """anonlink's ``find_candidate_pairs(..., dice_coefficient_accelerated, threshold)`` for
    two datasets without blocking, step for step without NumPy: the same compiled
    ``dice_many_to_many`` over the filters' bytes, then the same order (a stable sort by
    decreasing similarity over the compiled function's output, as anonlink's mergesort does;
    one block, so its merge and de-duplication change nothing). ``test_pprl.py`` compares
    the result with anonlink's own on seeded filters with ties."""
    from array import array

    dice = _native("similarities", "_dice")
    lengths = {len(f) for f in ours} | {len(f) for f in theirs}
    if len(lengths) != 1:
        raise PprlError(_("The two files' encodings have different lengths."))
    bits = lengths.pop()
    if bits % 8:
        raise PprlError(_("The encodings' length is not a whole number of bytes."))
    left, right = array("b"), array("b")
    left.frombytes(b"".join(f.tobytes() for f in ours))
    right.frombytes(b"".join(f.tobytes() for f in theirs))
    counts = array("I", [f.count() for f in theirs])
    sims, rows, columns = array("d"), array("I"), array("I")
    dice.dice_many_to_many(
        left, right, len(ours), len(theirs), counts, bits // 8, len(theirs), threshold,
        sims, rows, columns,
    )  # fmt: skip
    order = sorted(range(len(sims)), key=sims.__getitem__, reverse=True)
    # ``reverse=True`` keeps equal similarities in their original order (Python's sort is
    # stable in both directions), as anonlink's stable sort of the negated similarities.
    return (
        array("d", [sims[i] for i in order]),
        (array("I", [0]) * len(order), array("I", [1]) * len(order)),
        (array("I", [rows[i] for i in order]), array("I", [columns[i] for i in order])),
    )


def match(ours: list, theirs: list, *, threshold: float = 0.75) -> list[tuple[int, int, float]]:
    """One-to-one matches (index in ours, index in theirs, Dice similarity) above threshold:
    anonlink's candidates (``candidate_pairs``) and its greedy solver."""
    if not ours or not theirs:
        return []
    solving = _native("solving", "_multiparty_solving")
    candidates = candidate_pairs(ours, theirs, threshold)
    sims, datasets, records = candidates
    scores = {
        (d1, r1, d2, r2): float(sim)
        for sim, d1, d2, r1, r2 in zip(
            sims, datasets[0], datasets[1], records[0], records[1], strict=True
        )
    }
    pairs = []
    for group in solving.greedy_solve_native(candidates):
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
            raise PprlError(_("The secret file cannot be read.")) from exc
    else:
        data = (value or "").encode()
    if len(data) < 16:
        raise PprlError(_("The shared secret must be at least 16 bytes."))
    return data


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def rows_of(identities: Iterable[engine.Identity]) -> list[list[str]]:
    return [pii_row(identity) for identity in identities]
