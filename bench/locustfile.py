"""The work of a day, as Locust users: staff of several roles signed in over HTTP, and the public.

Run by bench/load.py (which starts PostgreSQL and gunicorn and ramps the users), or by hand:
``locust -f bench/locustfile.py --host http://127.0.0.1:8000`` against a server holding the demo
data (``streha demo``; every demo account has the password Streha-Demo-2026).

Request names group the addresses (``/cases/[id]/``) and start with READ or WRITE, so the
reads' and the writes' p95 can be judged against their own goals.

The users are Locust's ``FastHttpUser`` (geventhttpclient), not ``HttpUser`` (requests): on a
2-core machine the load generator shares the CPU with the server it measures, and
geventhttpclient spends several times less CPU per request, so more of the machine serves the
requests being timed. Each simulated staff member signs in once (``on_start``; Argon2 is meant
to be slow), never per task.
"""

import itertools
import random
import re
import subprocess
import sys
from pathlib import Path

from gevent.lock import Semaphore
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

PASSWORD = "Streha-Demo-2026"
CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})/"')
PERSON_LINK = re.compile(r'href="/persons/([0-9a-f-]{36})/"')
TIP_LINK = re.compile(r'href="/tips/([0-9a-f-]{36})/"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# Search terms: common names of the demo data (streha/demo/names.py), so searches find persons.
NAMES = ["Arta Krasniqi", "Drita Berisha", "Elira Gashi", "Milica Petrović", "Ana Hoxha"]
COUNTER = itertools.count()
# Staff users whose sign-in has been answered (accepted or not): bench/load.py measures a step
# only once every staff user of the step is past it.
SIGNED_IN = {"count": 0}


class Solver:
    """The public's proof of work, solved in a process of its own (``_pow.py``): each sender
    solves it on their own device, so it must not hold up Locust's event loop, which times
    every staff request. One process, one solve at a time."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        self.lock = Semaphore()

    def solve(self, challenge: str, bits: int) -> str:
        with self.lock:
            if self.process is None or self.process.poll() is not None:
                self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                    [sys.executable, str(Path(__file__).with_name("_pow.py"))],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            self.process.stdin.write(f"{challenge} {bits}\n")
            self.process.stdin.flush()
            return self.process.stdout.readline().strip()


SOLVER = Solver()


class Staff(FastHttpUser):
    abstract = True
    wait_time = between(1, 3)
    accounts: list[str] = []

    def on_start(self):
        self.username = self.accounts[next(COUNTER) % len(self.accounts)]
        page = self.client.get("/accounts/login/", name="READ sign-in page")
        token = CSRF.search(page.text or "")
        with self.client.post(
            "/accounts/login/",
            {
                "login": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token[1] if token else "",
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            name="WRITE sign in",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in refused ({response.status_code})")
        SIGNED_IN["count"] += 1
        self.cases: list[str] = []
        self.persons: list[str] = []

    def csrf(self) -> str:
        return next(
            (cookie.value for cookie in self.client.cookiejar if cookie.name == "csrftoken"), ""
        )

    def post(self, path: str, data: dict, name: str, refusable: bool = False):
        """A form post. ``refusable``: the policy may refuse it (a case shared with the user's
        agency is readable but not writable): 403/404 is then recorded apart, not as an error."""
        with self.client.post(
            path,
            {**data, "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": f"{self.host}{path}", "X-CSRFToken": self.csrf()},
            name=name,
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if refusable and response.status_code in (403, 404):
                response.success()
                self.environment.events.request.fire(
                    request_type="POST",
                    name=f"{name} (refused by the policy)",
                    response_time=response.request_meta["response_time"],
                    response_length=0,
                    exception=None,
                    context={},
                )
            elif response.status_code >= 400:
                response.failure(f"{response.status_code}")
            else:
                response.success()

    def remember(self, text: str) -> None:
        self.cases = (CASE_LINK.findall(text) or self.cases)[:20]
        self.persons = (PERSON_LINK.findall(text) or self.persons)[:20]


class CaseWorker(Staff):
    """Shelters, social workers, advocates: their cases, notes and steps."""

    weight = 5
    accounts = [
        "shelter.worker",
        "social.worker",
        "advocate",
        "shelter.shpresa",
        "labour.inspector",
    ]

    @task(3)
    def my_work(self):
        self.remember(self.client.get("/", name="READ my work").text or "")

    @task(6)
    def case_list(self):
        status = random.choice(["", "presumed_victim", "identified", "assistance", "closed"])
        page = random.randint(1, 3)
        response = self.client.get(f"/cases/?status={status}&page={page}", name="READ case list")
        self.remember(response.text or "")

    @task(8)
    def open_case(self):
        if self.cases:
            self.client.get(f"/cases/{random.choice(self.cases)}/", name="READ case page")

    @task(2)
    def search(self):
        self.post("/cases/", {"q": random.choice(NAMES)}, "READ case search")

    @task(2)
    def note(self):
        if self.cases:
            case = random.choice(self.cases)
            self.post(
                f"/cases/{case}/note/",
                {"body": "Visited; plan reviewed."},
                "WRITE note",
                refusable=True,
            )

    @task(2)
    def person_page(self):
        if self.persons:
            self.client.get(f"/persons/{random.choice(self.persons)}/", name="READ person page")


class Investigator(CaseWorker):
    weight = 3
    accounts = ["investigator", "police.supervisor", "investigator.prizren"]

    @task(2)
    def persons(self):
        self.remember(self.client.get("/persons/", name="READ person list").text or "")

    @task(1)
    def person_search(self):
        self.post("/persons/", {"q": random.choice(NAMES)}, "READ person search")

    @task(1)
    def referral_inbox(self):
        self.client.get("/cases/referrals/", name="READ referral inbox")


class HotlineOperator(Staff):
    weight = 1
    accounts = ["hotline"]

    @task(4)
    def queue(self):
        response = self.client.get("/tips/", name="READ tip queue")
        self.tips = TIP_LINK.findall(response.text or "")[:20]

    @task(3)
    def open_tip(self):
        if getattr(self, "tips", None):
            self.client.get(f"/tips/{random.choice(self.tips)}/", name="READ tip page")


class Public(FastHttpUser):
    """Someone reading the campaign pages and sometimes sending a tip (no cookies kept)."""

    weight = 1
    wait_time = between(2, 5)

    @task(3)
    def learn(self):
        self.client.get("/learn/", name="READ public pages")

    @task(1)
    def report(self):
        page = self.client.get("/report/", name="READ tip form")
        text = page.text or ""
        token = re.search(r'name="token" value="([^"]+)"', text)
        challenge = re.search(r'data-challenge="([^"]+)"', text)
        bits = re.search(r'data-bits="(\d+)"', text)
        if not (token and challenge):
            return
        nonce = SOLVER.solve(challenge[1], int(bits[1]) if bits else 14)
        with self.client.post(
            "/report/",
            {
                "token": token[1],
                "nonce": nonce,
                "what_seen": "Workers at a building site are not paid and cannot leave.",
                "where": "A building site near the ring road",
                "when": "This week",
            },
            name="WRITE tip",
            catch_response=True,
        ) as response:
            if response.status_code >= 400:
                response.failure(f"{response.status_code}")
        self.client.cookiejar.clear()
