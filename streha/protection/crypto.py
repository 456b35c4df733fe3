"""Authenticated encryption of field values with a record's data key (AES-256-GCM).

A sealed value is ``v1.`` + base64(nonce ‖ ciphertext ‖ tag). The associated data names the
model and field, so a ciphertext moved to another field or another model does not decrypt.
Tampering raises ``ProtectedDataIntegrityError``: garbage is never returned.
"""

import base64
import hashlib
import hmac
import os
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1."
NONCE_BYTES = 12


class ProtectedDataIntegrityError(Exception):
    """Ciphertext was altered, truncated, moved, or sealed under another key."""


def seal(data_key: bytes, plaintext: bytes, associated: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, associated.encode())
    return PREFIX + base64.b64encode(nonce + ciphertext).decode()


def open_sealed(data_key: bytes, sealed: str, associated: str) -> bytes:
    if not sealed.startswith(PREFIX):
        raise ProtectedDataIntegrityError(f"{associated}: not a sealed value.")
    try:
        raw = base64.b64decode(sealed[len(PREFIX) :], validate=True)
        return AESGCM(data_key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated.encode())
    except (InvalidTag, ValueError):
        raise ProtectedDataIntegrityError(
            f"{associated}: the stored value failed its integrity check."
        ) from None


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
    """Keyed HMAC, so equal values are findable but the index cannot be reversed by guessing."""
    return hmac.new(index_key, f"{purpose}\x1f{normalised}".encode(), hashlib.sha256).hexdigest()


def pseudonym(index_key: bytes, purpose: str, value: str) -> str:
    """A stable stand-in for an identifier, for analysts: same input, same pseudonym; not
    reversible without the key, and different for each purpose so data sets cannot be joined."""
    return blind_index(index_key, f"pseudonym:{purpose}", value)[:16]
