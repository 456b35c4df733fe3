"""What auditing costs a request: the person page with audit events written, the same page with
audit writing switched off, and the floor (an empty view), all through the same Django stack.

Goal (issue 3): audit writes must not double request latency.
"""

import os

import _common

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))


def main() -> None:
    _common.setup("pages")
    from django.conf import settings
    from django.test import Client

    settings.ROOT_URLCONF = "_urls"
    from streha.accounts.models import User
    from streha.audit import services as audit
    from streha.people.models import Person

    wanted = _common.persons_wanted()
    _common.ensure_demo(wanted)
    user = User.objects.get(username="shelter.worker")
    person_ids = list(
        Person.objects.filter(owner_agency=user.agency).values_list("public_id", flat=True)[
            :REQUESTS
        ]
    )
    client = Client()
    client.force_login(user)
    cycle = iter(range(10**9))

    def page():
        response = client.get(f"/persons/{person_ids[next(cycle) % len(person_ids)]}/")
        assert response.status_code == 200, response.status_code

    def floor():
        assert client.get("/_floor/").status_code == 200

    for function in (floor, page):  # warm caches and connections
        _common.timed(function, 20)
    real_record = audit.record

    def unaudited_page():
        audit.record = lambda *args, **kwargs: None
        try:
            page()
        finally:
            audit.record = real_record

    # Interleaved, so that a busy moment of the machine weighs on all three alike.
    floor_samples, audited, unaudited = [], [], []
    for _ in range(REQUESTS):
        floor_samples += _common.timed(floor, 1)
        audited += _common.timed(page, 1)
        unaudited += _common.timed(unaudited_page, 1)

    figures = {
        "persons": Person.objects.count(),
        "requests": REQUESTS,
        "floor": _common.summary(floor_samples),
        "person_page_audited": _common.summary(audited),
        "person_page_unaudited": _common.summary(unaudited),
    }
    figures["audit_latency_ratio_median"] = round(
        figures["person_page_audited"]["median_ms"] / figures["person_page_unaudited"]["median_ms"],
        2,
    )
    rows = [
        (name, figures[name]["median_ms"], figures[name]["p95_ms"])
        for name in ("floor", "person_page_unaudited", "person_page_audited")
    ]
    print(_common.table(rows, ("request", "median ms", "p95 ms")))
    print("audit latency ratio (median):", figures["audit_latency_ratio_median"], "(goal < 2)")
    print("written:", _common.write("audit_overhead", figures))


if __name__ == "__main__":
    main()
