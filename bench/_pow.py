"""The tip form's proof of work, solved in a process of its own.

Reads "challenge bits" lines and answers each with the nonce the tip form's script finds
(``streha.tips.abuse.solve``). The load test solves here, as each sender solves on their own
device: solved on Locust's event loop, each solve froze every simulated staff member's request
in flight, and the freeze was counted as the server's latency.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from streha.tips.abuse import solve  # noqa: E402 - after the path it is found on


def main() -> None:
    for line in sys.stdin:
        challenge, bits = line.split()
        print(solve(challenge, int(bits)), flush=True)


if __name__ == "__main__":
    main()
