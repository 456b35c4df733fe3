"""How fast `streha demo` makes persons (encrypted, blind-indexed, audited), beside the floor:
building the same persons in memory without sealing or saving them."""

import random
import time
from datetime import date

import _common


def main() -> None:
    _common.setup("demo_generator")
    from streha.demo import generator
    from streha.people.models import Person

    wanted = _common.persons_wanted()
    agencies, staff = generator.ensure_agencies_and_staff()
    before = Person.objects.filter(reference__startswith="D11-").count()
    started = time.perf_counter()
    created, total = generator.generate_persons(11, wanted, agencies, staff)
    elapsed = time.perf_counter() - started

    owners = [agencies[code] for code in generator.REGISTERING]
    weights = list(generator.REGISTERING.values())
    sample = min(wanted, 50_000)
    rng = random.Random(0)
    floor_started = time.perf_counter()
    for index in range(sample):
        generator._build_person(rng, index, 11, owners, weights, {}, date(2026, 1, 1))
    floor_per_person = (time.perf_counter() - floor_started) / sample

    per_person = elapsed / created if created else None
    figures = {
        "persons": total,
        "created_this_run": created,
        "already_there": before,
        "seconds": round(elapsed, 2),
        "persons_per_second": round(created / elapsed) if created else None,
        "floor_persons_per_second": round(1 / floor_per_person),
        "ratio_to_floor": round(per_person / floor_per_person, 2) if per_person else None,
    }
    rows = [(key, value) for key, value in figures.items()]
    print(_common.table(rows, ("figure", "value")))
    print("written:", _common.write("demo_generator", figures))


if __name__ == "__main__":
    main()
