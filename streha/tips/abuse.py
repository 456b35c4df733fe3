"""Holding back abuse of the anonymous form without knowing, or keeping, who anyone is.

- A signed form token carries a random challenge, the proof-of-work difficulty asked for, and
  the time the form was shown: it proves the form came from us, enforces a minimum fill time,
  expires, and is usable once, across every server process (the used challenges are kept in
  the tip line's shared cache, ``CACHES["tips"]``).
- A proof of work: the page's script finds a nonce so that SHA-256(challenge:nonce) starts with
  as many zero bits as the token asks. The difficulty grows instead of the line refusing: with
  the reports of the whole line in the last ten minutes above ``STREHA_TIP_FLOOD_PER_10_MINUTES``
  (a flood), and with the reports of one address above ``STREHA_TIP_RATE_PER_HOUR``, one bit
  (twice the work) per step, up to ``STREHA_TIP_POW_MAX_BITS`` (seconds on a phone). An address
  far above its limit (four times) is refused for the hour. Without JavaScript the form still
  works, after a longer minimum fill time, as long as the line is not flooded.
- A honeypot field people never see.
- Rate counts per address, kept only in the shared cache for an hour, under an HMAC of the
  address with a key that changes every day: the address itself is never stored or logged.
  The address is the one the trusted reverse proxy saw (``STREHA_PROXY_HOPS``), so that people
  behind the same proxy do not share one limit.
"""

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.utils.translation import gettext as _

SALT = "streha.tips.form"
TOKEN_MAX_AGE = 2 * 60 * 60
HONEYPOT = "website"
FLOOD_WINDOW = 600
REFUSE_FACTOR = 4


class Refused(Exception):
    """The submission is held back; the message is safe to show."""


@dataclass(frozen=True)
class FormChallenge:
    token: str
    challenge: str
    bits: int


def tip_cache():
    return caches["tips"]


def client_address(request) -> str:
    """The address the nearest trusted proxy saw (``STREHA_PROXY_HOPS`` proxies append to
    X-Forwarded-For), or the connection's address without a proxy. Only the rightmost entries
    were written by our proxies; anything to their left was sent by the client and is ignored."""
    hops = settings.STREHA_PROXY_HOPS
    remote = request.META.get("REMOTE_ADDR", "")
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    return forwarded[-hops]


def _daily_key() -> bytes:
    day = time.strftime("%Y-%m-%d", time.gmtime())
    return hmac.new(settings.SECRET_KEY.encode(), f"tips-rate:{day}".encode(), "sha256").digest()


def _address_key(client_address_: str, scope: str) -> str:
    keyed = hmac.new(_daily_key(), client_address_.encode(), "sha256").hexdigest()[:32]
    return f"tips:rate:{scope}:{keyed}"


def _flood_key() -> str:
    return f"tips:flood:{int(time.time() // FLOOD_WINDOW)}"


def _count(key: str) -> int:
    return int(tip_cache().get(key) or 0)


def _increment(key: str, timeout: int) -> int:
    cache = tip_cache()
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout)
        return 1


def _extra_bits(count: int, limit: int) -> int:
    """One bit (twice the work) per doubling above the limit, starting with 2 at the limit."""
    if limit <= 0 or count < limit:
        return 0
    return 2 + int(math.log2(max(count, 1) / limit) * 2)


def required_bits(client_address_: str) -> int:
    base = settings.STREHA_TIP_POW_BITS
    flood = _extra_bits(_count(_flood_key()), settings.STREHA_TIP_FLOOD_PER_10_MINUTES)
    own = _extra_bits(
        _count(_address_key(client_address_, "submit")), settings.STREHA_TIP_RATE_PER_HOUR
    )
    return min(base + flood + own, max(base, settings.STREHA_TIP_POW_MAX_BITS))


def is_flooded() -> bool:
    return _count(_flood_key()) >= settings.STREHA_TIP_FLOOD_PER_10_MINUTES


def new_challenge(client_address_: str = "") -> FormChallenge:
    challenge = secrets.token_hex(16)
    bits = required_bits(client_address_)
    token = signing.dumps({"c": challenge, "t": time.time(), "b": bits}, salt=SALT, compress=False)
    return FormChallenge(token=token, challenge=challenge, bits=bits)


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


def check_submission(data, client_address_: str) -> None:
    """Raise ``Refused`` unless the submission passes every check. Marks the token used and
    counts the report for the rate and flood figures; stores nothing else."""
    if data.get(HONEYPOT):
        raise Refused(_("The report could not be accepted. Please try again."))
    try:
        payload = signing.loads(data.get("token", ""), salt=SALT, max_age=TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise Refused(_("The form has expired. Please reload the page and try again.")) from None
    challenge, shown_at = payload["c"], payload["t"]
    bits = max(int(payload.get("b", 0)), settings.STREHA_TIP_POW_BITS)
    elapsed = time.time() - shown_at
    nonce = str(data.get("nonce", ""))[:32]
    if nonce:
        digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
        if leading_zero_bits(digest) < bits:
            raise Refused(_("The form check failed. Please reload the page and try again."))
        minimum = settings.STREHA_TIP_MIN_SECONDS
    else:
        if bits > settings.STREHA_TIP_POW_BITS:
            # Flooded, or this address sent many reports: the browser check is needed now.
            raise Refused(_("The report line is very busy. Please try again in a few minutes."))
        minimum = settings.STREHA_TIP_NOSCRIPT_MIN_SECONDS
    if elapsed < minimum:
        raise Refused(
            _("Please take a moment to check your report, then send it again in a few seconds.")
        )
    if not tip_cache().add(f"tips:used:{challenge}", 1, TOKEN_MAX_AGE):
        raise Refused(_("This form was already sent. Please reload the page for a new report."))
    check_rate(client_address_)
    _increment(_flood_key(), FLOOD_WINDOW)


def check_rate(client_address_: str, scope: str = "submit") -> None:
    """Count one attempt from this address; refuse only far above the limit (the proof of work
    has grown long before)."""
    limit = settings.STREHA_TIP_RATE_PER_HOUR
    count = _increment(_address_key(client_address_, scope), 3600)
    ceiling = limit * (REFUSE_FACTOR if scope == "submit" else 1)
    if count > ceiling:
        raise Refused(_("Too many attempts from this connection. Please try again later."))
