"""Operations rows of the authorization matrix (see streha/testing/matrix.py).

The probes are open (the proxy keeps them internal) and show no data. ``/metrics`` answers 404
to everyone, signed in or not, without the bearer token: it is listed with the pages that must
simply never fail nor show protected data.
"""

from streha.testing.matrix import ANON, EVERYONE, P

PUBLIC = EVERYONE | {ANON}
HTML = {
    "ops:healthz": P(PUBLIC, path="/healthz"),
    "ops:readyz": P(PUBLIC, path="/readyz"),
}
API = {}
AUTH_PAGES = {"ops:metrics": "/metrics"}


def extend_world(world):
    return None
