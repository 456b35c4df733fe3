"""Synthetic tips for the demonstration system, so the hotline queue and the campaign figures
have something to show. Deterministic per seed; running it again adds nothing.

Called by the demo generator (``streha demo``): ``streha.tips.demo.generate_tips(seed)``.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from streha.audit import services as audit
from streha.places.models import Municipality
from streha.tips.models import Category, Channel, Tip, TipStatus

# Short synthetic accounts, in Albanian as most reports would be. No real place or person.
ACCOUNTS = [
    (Category.FORCED_BEGGING, "Dy fëmijë lypin çdo ditë te kryqëzimi; një burrë ua merr paratë."),
    (Category.FORCED_LABOUR, "Punëtorë të huaj flenë në kantier dhe nuk u jepen pasaportat."),
    (Category.SEXUAL_EXPLOITATION, "Vajza të reja sillen natën në një lokal, nuk dalin kurrë."),
    (Category.FORCED_LABOUR, "Një fqinj thotë se punon pa pagë për të shlyer një borxh."),
    (Category.CHILD_TRAFFICKING, "Një vajzë 15 vjeçe u martua me forcë dhe nuk shkon në shkollë."),
    (Category.UNKNOWN, "Një furgon merr çdo mëngjes gra te stacioni; duken të frikësuara."),
    (Category.OTHER, "Një agjenci premton punë jashtë vendit dhe kërkon pasaportat paraprakisht."),
]


# The demo's hotline unit: its supervisor and its operator, keys locked under the demo password.
DEMO_SUPERVISOR = "coordinator"
DEMO_OPERATORS = ("hotline",)


def ensure_demo_tip_line() -> None:
    """Start the tip line for the demo staff, as the supervisor would after signing in: keys for
    the supervisor and the hotline operator (under the demo password), both in the unit.
    Idempotent. A real deployment starts it from the "Hotline unit" page."""
    from streha.accounts.models import User
    from streha.demo.generator import DEMO_PASSWORD
    from streha.tips import services, unlock
    from streha.tips.models import TipLineKey, TipLineMember

    supervisor = User.objects.filter(username=DEMO_SUPERVISOR).first()
    if supervisor is None:
        return
    keys = {}
    for user in [supervisor, *User.objects.filter(username__in=DEMO_OPERATORS)]:
        key = unlock.open_member_key(user, DEMO_PASSWORD)
        keys[user.username] = key or unlock.enrol(user, DEMO_PASSWORD)
    if not TipLineKey.objects.exists():
        services.start_tip_line(supervisor, keys[DEMO_SUPERVISOR])
    for username in DEMO_OPERATORS:
        member = TipLineMember.objects.filter(user__username=username).first()
        if member is not None and member.added_on is None:
            services.add_member(supervisor, keys[DEMO_SUPERVISOR], member)


def generate_tips(seed: int, count: int = 60, weeks: int = 12) -> int:
    """Create ``count`` tips spread over the last ``weeks`` weeks, unless tips already exist.
    Returns how many were created. Every tip is audited as demo data; what they say is sealed
    to the demo hotline unit's key like any report."""
    from streha.tips import services

    ensure_demo_tip_line()
    if Tip.objects.exists():
        return 0
    key = services.current_key()
    rng = random.Random(f"tips-{seed}")
    municipalities = list(Municipality.objects.order_by("code")[:12])
    today = timezone.localdate()
    tips, accounts = [], []
    for _index in range(count):
        category, text = rng.choice(ACCOUNTS)
        accounts.append(text)
        danger = rng.random() < 0.15
        child = category in (Category.FORCED_BEGGING, Category.CHILD_TRAFFICKING) or (
            rng.random() < 0.1
        )
        age = rng.randrange(weeks * 7)
        status = (
            TipStatus.NEW
            if age < 3
            else rng.choice([TipStatus.TRIAGE, TipStatus.CLOSED, TipStatus.CONVERTED])
        )
        tips.append(
            Tip(
                channel=rng.choice([Channel.WEB, Channel.WEB, Channel.PHONE]),
                category=category if status != TipStatus.NEW else Category.UNKNOWN,
                municipality=rng.choice(municipalities) if municipalities else None,
                child_involved=child,
                immediate_danger=danger,
                priority=2 if danger else 1 if child else 0,
                received_on=today - timedelta(days=age),
                status=status,
                # Demo tips become police reports only: a victim case is opened through the
                # conversion service, which registers a person and opens a real case.
                converted_kind="police_report" if status == TipStatus.CONVERTED else "",
                converted_to=(
                    f"KP-DEMO-{rng.randrange(10000):04d}" if status == TipStatus.CONVERTED else ""
                ),
            )
        )
    with transaction.atomic():
        for tip, text in zip(tips, accounts, strict=True):
            content = {"what_seen": text, "where": "", "when": "", "contact": ""}
            services.seal_report(tip, key, content, contact_may_be_shared=False)
            tip.save()
        audit.record_each(
            audit.Action.CREATE, tips, field_groups=[Tip.FIELD_GROUP], purpose="demo data"
        )
    return len(tips)
