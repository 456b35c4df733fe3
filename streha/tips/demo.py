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


def generate_tips(seed: int, count: int = 60, weeks: int = 12) -> int:
    """Create ``count`` tips spread over the last ``weeks`` weeks, unless tips already exist.
    Returns how many were created. Every tip is audited as demo data."""
    if Tip.objects.exists():
        return 0
    rng = random.Random(f"tips-{seed}")
    municipalities = list(Municipality.objects.order_by("code")[:12])
    today = timezone.localdate()
    tips = []
    for _index in range(count):
        category, text = rng.choice(ACCOUNTS)
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
                what_seen=text,
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
        for tip in tips:
            tip.save()
        audit.record_each(
            audit.Action.CREATE, tips, field_groups=[Tip.FIELD_GROUP], purpose="demo data"
        )
    return len(tips)
