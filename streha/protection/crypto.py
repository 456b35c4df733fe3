"""Authenticated encryption of field values with a record's data key (AES-256-GCM).

A sealed value is ``v2.`` + base64(nonce ‖ ciphertext ‖ tag). Its associated data (built by
``associated_data``) names the model, the field, the record's primary key and the record's
version, so a ciphertext moved to another field, another model or another record, or an older
ciphertext of the same field put back in place, does not decrypt. Values sealed by the first
format (``v1.``, associated data = model and field only) stay readable until ``streha keys
rewrap`` has upgraded every record; see ``keys.Keyring.legacy_v1``.
Tampering raises ``ProtectedDataIntegrityError``: garbage is never returned.
"""

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX_V1 = "v1."
PREFIX = "v2."
NONCE_BYTES = 12


class ProtectedDataIntegrityError(Exception):
    """Ciphertext was altered, truncated, moved, rolled back, or sealed under another key."""


def token_format(sealed: str) -> int:
    """1 or 2 for a sealed value of that format; 0 for anything else."""
    if sealed.startswith(PREFIX):
        return 2
    if sealed.startswith(PREFIX_V1):
        return 1
    return 0


def associated_data(label: str, field: str, record_id, version: int) -> str:
    """What a v2 ciphertext is bound to: format, model, field, record id and record version."""
    return f"streha/2|{label}|{field}|{record_id}|{version}"


def legacy_associated_data(label: str, field: str) -> str:
    """What a v1 ciphertext was bound to: model and field only."""
    return f"{label}.{field}"


def seal(data_key: bytes, plaintext: bytes, associated: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, associated.encode())
    return PREFIX + base64.b64encode(nonce + ciphertext).decode()


def open_sealed(data_key: bytes, sealed: str, associated: str) -> bytes:
    """Decrypt a sealed value of either format; ``associated`` must be the matching one."""
    return opener(data_key)(sealed, associated)


def opener(data_key: bytes) -> Callable[[str, str], bytes]:
    """``open_sealed`` with ``data_key`` bound: the cipher is set up once for all the values of
    one record (``streha.protection.bulk_open`` opens a record's fields with it)."""
    try:
        aead = AESGCM(data_key)
    except ValueError:
        aead = None  # not a valid AES key: every value fails its integrity check below

    def open_one(sealed: str, associated: str) -> bytes:
        fmt = token_format(sealed)
        if not fmt:
            raise ProtectedDataIntegrityError(f"{_where(associated)}: not a sealed value.")
        try:
            if aead is None:
                raise ValueError("invalid key")
            # ``b64decode(validate=True)``'s check, in C (an invalid token fails either way).
            raw = binascii.a2b_base64(sealed[len(PREFIX) :], strict_mode=True)
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated.encode())
        except (InvalidTag, ValueError):
            raise ProtectedDataIntegrityError(
                f"{_where(associated)}: the stored value failed its integrity check "
                "(altered, moved from another record or field, or an older value put back)."
            ) from None

    return open_one


def reseal(
    old_key: bytes, sealed: str, old_associated: str, new_key: bytes, new_associated: str
) -> str:
    """Seal a stored value again for a new record version, without the plaintext leaving here."""
    return seal(new_key, open_sealed(old_key, sealed, old_associated), new_associated)


def _where(associated: str) -> str:
    """The model and field of an associated-data string, for error messages (never values)."""
    if associated.startswith("streha/2|"):
        parts = associated.split("|")
        return f"{parts[1]}.{parts[2]}"
    return associated


# --- Blind indexes ------------------------------------------------------------------------------


def normalise_text(value: str) -> str:
    """Case, accents, punctuation and spacing do not matter: "Çelik  Ana" ~ "celik ana"."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    letters = "".join(
        char if char.isalnum() else " " for char in decomposed if not unicodedata.combining(char)
    )
    # đ has no decomposition; make Serbian Latin and its ASCII spellings meet.
    letters = letters.replace("đ", "dj").replace("ß", "ss")
    return " ".join(letters.split())


def normalise_name(value: str) -> str:
    """Name order does not matter either: "Krasniqi Arta" ~ "Arta Krasniqi".

    "N.N." (nomen nescio: the name is not known) is a placeholder, not a name: it is left out,
    so that searching for it does not list every unnamed person in the country."""
    words = normalise_text(value).split()
    if words[:2] == ["n", "n"]:
        words = words[2:]
    return " ".join(sorted(words))


def normalise_identifier(value: str) -> str:
    return "".join(char for char in value.upper() if char.isalnum())


def blind_index(index_key: bytes, purpose: str, normalised: str) -> str:
    """Keyed HMAC, so equal values are findable but the index cannot be reversed by guessing.

    The full-length form: tip receipt codes and pseudonyms, and the first format of the
    person indexes (read while old rows are upgraded). Field indexes use ``truncated_index``."""
    return hmac.new(index_key, f"{purpose}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()


def field_index_key(index_root: bytes, purpose: str) -> bytes:
    """Each indexed field has its own key, derived from the index root (never a master key):
    knowing one field's key tells nothing about another's."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"streha/index|{purpose}".encode()
    ).derive(index_root)


def truncated_index(field_key: bytes, normalised: str, bits: int) -> str:
    """The first ``bits`` bits of an HMAC, as ``t<bits>:<hex>``.

    Short on purpose: with enough records every index value is shared by several different
    values, so the index alone cannot confirm a guessed name or number for a given row;
    search decrypts the few candidates and keeps only exact matches."""
    digest = int.from_bytes(hmac.new(field_key, normalised.encode(), hashlib.sha256).digest())
    value = digest >> (256 - bits)
    return f"t{bits}:{value:0{(bits + 3) // 4}x}"


def truncated_hasher(field_key: bytes, bits: int) -> Callable[[str], int]:
    """``truncated_index``'s value as an integer, for hashing many values under one key (a
    run's registration keys): the keyed HMAC state is set up once and copied for each value
    (the same digests: ``test_bulk_open``)."""
    keyed = hmac.new(field_key, digestmod=hashlib.sha256)
    shift = 256 - bits

    def hashed(normalised: str) -> int:
        one = keyed.copy()
        one.update(normalised.encode())
        return int.from_bytes(one.digest()) >> shift

    return hashed


def pseudonym(index_key: bytes, purpose: str, value: str) -> str:
    """A stable stand-in for an identifier, for analysts: same input, same pseudonym; not
    reversible without the key, and different for each purpose so data sets cannot be joined."""
    return blind_index(index_key, f"pseudonym:{purpose}", value)[:16]
