"""Public-key sealing of the tip line (libsodium through PyNaCl), so that the server cannot read it.

Why not ``streha.protection``: that mechanism encrypts under master keys the server holds, which
is right for case records the server must show to many agencies, and wrong for a reporter whose
life depends on not being traced: whoever takes the database and the key file would read every
tip. Here the server holds only public keys:

- a report and every message are sealed (``crypto_box_seal``: X25519 + XSalsa20-Poly1305) to the
  hotline unit's public key, and a message for the reporter also to the reporter's public key;
- the unit's private keys exist only sealed to each member's own public key (one slot each);
- a member's private key exists only locked (Argon2id + ``crypto_secretbox``) under the secret
  they sign in with, which the server does not store (it keeps a password hash, as for anyone);
- the reporter's key pair is derived (Argon2id) from the receipt code and passphrase, both of
  which only the reporter has.

Nothing here is a home-made construction: every primitive is libsodium's own.
"""

import base64
import hashlib
import json

import nacl.exceptions
import nacl.pwhash
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox

ARGON = nacl.pwhash.argon2id
# Argon2id cost for the reporter's key (fixed: the key is derived again at every follow-up).
REPORTER_OPSLIMIT = ARGON.OPSLIMIT_INTERACTIVE
REPORTER_MEMLIMIT = ARGON.MEMLIMIT_INTERACTIVE
LOCK_PREFIX = "a2id"


class Unreadable(Exception):
    """A sealed value could not be opened with the key at hand (wrong key, or tampered)."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


def new_key_pair() -> PrivateKey:
    return PrivateKey.generate()


def public_text(private: PrivateKey) -> str:
    return b64(bytes(private.public_key))


def private_from_bytes(raw: bytes) -> PrivateKey:
    return PrivateKey(raw)


def seal(public_key: str, data: bytes) -> str:
    """Anonymous sealed box to ``public_key`` (base64): only its private key opens it."""
    return b64(SealedBox(PublicKey(unb64(public_key))).encrypt(data))


def open_sealed(private: PrivateKey, sealed: str) -> bytes:
    try:
        return SealedBox(private).decrypt(unb64(sealed))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise Unreadable("The sealed value does not open with this key.") from None


def seal_json(public_key: str, payload: dict) -> str:
    return seal(public_key, json.dumps(payload, ensure_ascii=False).encode())


def open_json(private: PrivateKey, sealed: str) -> dict:
    return json.loads(open_sealed(private, sealed).decode())


def lock(secret: str, data: bytes, *, opslimit: int, memlimit: int) -> str:
    """``data`` encrypted under a key stretched from ``secret``; the parameters travel with it."""
    salt = nacl.utils.random(ARGON.SALTBYTES)
    key = ARGON.kdf(SecretBox.KEY_SIZE, secret.encode(), salt, opslimit=opslimit, memlimit=memlimit)
    box = SecretBox(key).encrypt(data)
    return ".".join([LOCK_PREFIX, str(opslimit), str(memlimit), b64(salt), b64(bytes(box))])


def unlock(secret: str, locked: str) -> bytes:
    try:
        prefix, opslimit, memlimit, salt, box = locked.split(".")
        if prefix != LOCK_PREFIX:
            raise ValueError(prefix)
        key = ARGON.kdf(
            SecretBox.KEY_SIZE,
            secret.encode(),
            unb64(salt),
            opslimit=int(opslimit),
            memlimit=int(memlimit),
        )
        return SecretBox(key).decrypt(unb64(box))
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise Unreadable("The secret does not unlock this key.") from None


def reporter_key(code: str, passphrase: str) -> PrivateKey:
    """The reporter's key pair, derived from their receipt code (the salt) and passphrase.

    Both are normalised by the caller. The server keeps the public half only, to seal replies.
    """
    salt = hashlib.blake2b(
        code.encode(), digest_size=ARGON.SALTBYTES, person=b"streha-receipt"
    ).digest()
    seed = ARGON.kdf(
        32,
        passphrase.encode(),
        salt,
        opslimit=REPORTER_OPSLIMIT,
        memlimit=REPORTER_MEMLIMIT,
    )
    return PrivateKey(seed)


def session_box(key: bytes) -> SecretBox:
    """The box that keeps an unlocked member key between requests (its key is in a cookie)."""
    return SecretBox(key)


def random_key() -> bytes:
    return nacl.utils.random(SecretBox.KEY_SIZE)
