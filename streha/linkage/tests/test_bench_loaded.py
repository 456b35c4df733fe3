"""The 1M bench's loaded population (bench/linkage_loaded.py) is the scale section's synthetic
records: loaded through the protection layer and read back by the dedup's own audited read,
every column equals the generated one, so plain Splink and ``streha dedup run`` get the same
records the truth pairs were drawn for."""

import pytest

from streha.audit.models import Action, AuditEvent
from streha.linkage import services
from streha.people.models import Person
from streha.testing.bench import bench_modules


@pytest.fixture
def bench(monkeypatch):
    with bench_modules(monkeypatch, "linkage", "linkage_loaded") as modules:
        yield modules


@pytest.mark.django_db
def test_the_loaded_population_reads_back_as_the_generated_records(bench):
    linkage, loaded = bench
    columns, truth = linkage.synthetic(400, 7)
    assert truth  # the seed plants copies in 400 records
    result = loaded.load(columns, 400)
    assert result["persons"] == 400
    assert loaded.load(columns, 400)["loaded_now"] == 0  # reused, not loaded twice

    read = services.read_identities("test: loaded population")
    reference_of = dict(Person.objects.values_list("pk", "reference"))
    index_of = {loaded.reference(7, i): i for i in range(400)}
    assert sorted(index_of[reference_of[pk]] for pk in read["unique_id"]) == list(range(400))
    for k, pk in enumerate(read["unique_id"]):
        i = index_of[reference_of[pk]]
        for name in columns:
            if name != "unique_id":
                assert read[name][k] == columns[name][i], (name, i)
    # Sealed, not stored in the clear: a generated name is not in the row as written.
    raw = Person.objects.filter(reference=loaded.reference(7, 0)).values("given_name").get()
    assert columns["given_name"][0] not in str(raw)
    # One creation event per person, as the system registers persons.
    assert AuditEvent.objects.filter(action=Action.CREATE).count() >= 400


@pytest.mark.django_db
def test_truth_pairs_map_to_references(bench):
    linkage, loaded = bench
    _, truth = linkage.synthetic(400, 7)
    refs = loaded.truth_by_reference(truth)
    assert len(refs) == len(truth)
    assert all(a < b and a.startswith("L7-") for a, b in refs)
