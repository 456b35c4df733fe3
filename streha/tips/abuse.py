"""Holding back abuse of the anonymous form without knowing, or keeping, who anyone is.

- A signed form token carries a random challenge and the time the form was shown: it proves the
  form came from us, enforces a minimum fill time, expires, and is usable once.
- A small proof-of-work: the page's script finds a nonce so that SHA-256(challenge:nonce) starts
  with ``STREHA_TIP_POW_BITS`` zero bits. Without JavaScript the form still works, but only after
  a longer minimum fill time.
- A honeypot field people never see.
- A rate limit per address, kept only in the cache, under an HMAC of the address with a key that
  changes every day: the address itself is never stored, logged or recoverable.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext as _

SALT = "streha.tips.form"
TOKEN_MAX_AGE = 2 * 60 * 60
HONEYPOT = "website"


class Refused(Exception):
    """The submission is held back; the message is safe to show."""


@dataclass(frozen=True)
class FormChallenge:
    token: str
    challenge: str
    bits: int


def new_challenge() -> FormChallenge:
    challenge = secrets.token_hex(16)
    token = signing.dumps({"c": challenge, "t": time.time()}, salt=SALT, compress=False)
    return FormChallenge(token=token, challenge=challenge, bits=settings.STREHA_TIP_POW_BITS)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str, bits: int) -> str:
    """What the page's script does; used by tests and machine clients."""
    nonce = 0
    while leading_zero_bits(hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()) < bits:
        nonce += 1
    return str(nonce)


def check_submission(data, client_address: str) -> None:
    """Raise ``Refused`` unless the submission passes every check. Stores nothing."""
    if data.get(HONEYPOT):
        raise Refused(_("The report could not be accepted. Please try again."))
    try:
        payload = signing.loads(data.get("token", ""), salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Refused(_("The form has expired. Please reload the page and try again.")) from None
    challenge, shown_at = payload["c"], payload["t"]
    elapsed = time.time() - shown_at
    nonce = str(data.get("nonce", ""))[:32]
    if nonce:
        digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if leading_zero_bits(digest) < settings.STREHA_TIP_POW_BITS:
            raise Refused(_("The form check failed. Please reload the page and try again."))
        minimum = settings.STREHA_TIP_MIN_SECONDS
    else:
        minimum = settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS
    if elapsed < minimum:
        raise Refused(
            _("Please take a moment to check your report, then send it again in a few seconds.")
        )
    if not cache.add(f"tips:used:{challenge}", 1, TOKEN_MAX_AGE):
        raise Refused(_("This form was already sent. Please reload the page for a new report."))
    check_rate(client_address)


def _daily_key() -> bytes:
    day = time.strftime("%Y-%m-%d", time.gmtime())
    return hmac.new(settings.SECRET_KEY.encode(), f"tips-rate:{day}".encode(), "sha256").digest()


def check_rate(client_address: str, scope: str = "submit") -> None:
    limit = settings.STREHA_TIP_RATE_PER_HOUR
    keyed = hmac.new(_daily_key(), client_address.encode(), "sha256").hexdigest()[:32]
    key = f"tips:rate:{scope}:{keyed}"
    cache.add(key, 0, 3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, 3600)
        count = 1
    if count > limit:
        raise Refused(_("Too many attempts from this connection. Please try again later."))
