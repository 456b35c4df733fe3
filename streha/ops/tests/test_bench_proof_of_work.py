"""The load test's public solves the tip form's proof of work as the form's script does, in a
process of its own (``bench/_pow.py``): a solve on Locust's event loop froze every simulated
staff member's request in flight, and the freeze counted as the server's latency."""

import subprocess
import sys
from pathlib import Path

from streha.tips import abuse

POW = Path(__file__).resolve().parents[3] / "bench" / "_pow.py"


def test_the_solver_process_answers_each_line_in_order():
    questions = [("first", 6), ("second", 9), ("third", 3)]
    done = subprocess.run(  # noqa: S603 - our interpreter and our script
        [sys.executable, str(POW)],
        input="".join(f"{challenge} {bits}\n" for challenge, bits in questions),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    answers = done.stdout.split()
    assert answers == [abuse.solve(challenge, bits) for challenge, bits in questions]
