"""Search keys for single names: one key per way a name is written in Kosovo.

A person's name reaches the system in Albanian ("Gjergj Krasniqi"), in Serbian Latin ("Đerđ
Krasnići"), in Serbian Cyrillic ("Ђерђ Краснићи") or typed on a keyboard without diacritics
("Djerdj Krasnici"). ``name_key`` maps every one of these spellings of one name to one key, so
that a search in any of them finds the others:

1. Serbian Cyrillic is transliterated to Serbian Latin (one letter each; џ, љ, њ are two).
2. Albanian and Serbian letters for the same sound meet: xh/dž/x → dz, gj/đ → dj, sh/š → s,
   zh/ž → z, ç/č/ć/q → c, dh → d, th → t, ë → e, y → i.
3. Other accents are dropped (é → e), then doubled letters collapse (ll → l, rr → r).

The key is deliberately coarse: "Sala" and "Shala" share it, as "Çeku" and "Ceku" do. It is
a spelling key, not a phonetic one: names that merely sound alike (Arta / Ardita) keep apart.
Keys never leave this process: a blind index stores a truncated keyed hash of each
(``name_token_digest``), and the plaintext they are made from stays inside
``streha.protection``.
"""

import re
import unicodedata
from functools import lru_cache

from django.conf import settings

from streha.protection import crypto, keys

DEFAULT_NAME_TOKEN_BITS = 10

# Serbian Cyrillic → Serbian Latin (Vuk Karadžić's alphabet, one-to-one but for џ, љ, њ).
_CYRILLIC = dict(
    zip(
        "абвгдђежзијклмнопрстћуфхцчш",
        "abvgdđežzijklmnoprstćufhcčš",
        strict=True,
    )
)
_CYRILLIC.update({"џ": "dž", "љ": "lj", "њ": "nj"})

# Multi-letter spellings first (order matters: "xh" before "x", "dž" before "ž").
_DIGRAPHS = (
    ("xh", "dz"),
    ("dž", "dz"),
    ("gj", "dj"),
    ("đ", "dj"),
    ("sh", "s"),
    ("zh", "z"),
    ("dh", "d"),
    ("th", "t"),
)
_LETTERS = str.maketrans(
    {
        "x": "dz",
        "š": "s",
        "ž": "z",
        "ç": "c",
        "č": "c",
        "ć": "c",
        "q": "c",
        "ë": "e",
        "y": "i",
        "ß": "ss",
    }
)
_DOUBLED = re.compile(r"(.)\1+")


def _fold(value: str) -> str:
    text = "".join(_CYRILLIC.get(char, char) for char in value.casefold())
    # Precomposed forms, so that "c" + combining caron is read as "č".
    text = unicodedata.normalize("NFC", text)
    for spelling, key in _DIGRAPHS:
        text = text.replace(spelling, key)
    text = text.translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        char if char.isalnum() else " " for char in decomposed if not unicodedata.combining(char)
    )


def name_key(token: str) -> str:
    """The search key of one name ("Gjergj", "Đerđ", "Djerdj" → "djerdj")."""
    return _DOUBLED.sub(r"\1", "".join(_fold(token).split()))


def name_keys(text: str) -> set[str]:
    """The search keys of every name in ``text``: names of one letter (initials) and digits are
    left out, and so is the "N.N." placeholder (nomen nescio: the name is not known)."""
    words = [word for word in _fold(text).split() if not word.isdigit()]
    if words[:2] == ["n", "n"]:
        words = words[2:]
    found = {_DOUBLED.sub(r"\1", word) for word in words}
    return {key for key in found if len(key) > 1}


def name_token_bits() -> int:
    """Bits kept of each name-token index value (``STREHA_NAME_TOKEN_INDEX_BITS``, default 10):
    fewer than the number of distinct names, so every value is shared by several names."""
    bits = getattr(settings, "STREHA_NAME_TOKEN_INDEX_BITS", DEFAULT_NAME_TOKEN_BITS)
    return max(1, min(int(bits), 64))


@lru_cache(maxsize=16)
def _field_key(index_root: bytes, purpose: str) -> bytes:
    return crypto.field_index_key(index_root, purpose)


# Never a name key (those are letters only): what the configuration's hash is taken of.
_CONFIGURATION = "\x00configuration"


def name_token_configuration(purpose: str) -> str:
    """Which key and bits an index's entries are written under, as a short marker: the bits and
    48 bits of a keyed hash of a constant (nothing of any name), so a change of either gives a
    new value and entries written before it show as not current (``streha.people.name_index``)."""
    field_key = _field_key(keys.keyring().index_key, purpose)
    digest = crypto.truncated_index(field_key, _CONFIGURATION, 48)
    return f"b{name_token_bits()}:{digest.split(':', 1)[1]}"


def name_token_digest(purpose: str, key: str) -> str:
    """The stored index value of one name key: its own per-index key derived from the index
    root (never a master key), truncated to ``name_token_bits`` bits."""
    field_key = _field_key(keys.keyring().index_key, purpose)
    return crypto.truncated_index(field_key, key, name_token_bits())
