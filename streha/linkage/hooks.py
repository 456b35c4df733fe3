"""What the people app calls when a person is registered (kept here, so people/ changes by
one line per channel). A failing check never undoes the registration: it is logged by type."""

import logging

from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext as _

logger = logging.getLogger("streha.linkage")


def registration_matches(actor, person):
    """The check's result, or None if it failed. It runs in a savepoint: a database error in it
    rolls back only the check, never the registration it advises on (caught without one, the
    error would leave the request's transaction aborted, and its commit a silent rollback)."""
    from streha.linkage import services

    try:
        with transaction.atomic():
            return services.check_registration(actor, person)
    except Exception as exc:  # noqa: BLE001 - the registration stands; the check is advice
        logger.error("registration match check failed: %s", type(exc).__name__)
        return None


def announce_registration_matches(request, person) -> None:
    """Messages on the next page: matches in the user's scope by reference; elsewhere only
    that one exists and whom to ask (no identity, no agency)."""
    found = registration_matches(request.user, person)
    if found is None:
        return
    if found.in_scope:
        references = ", ".join(p.reference for p in found.in_scope)
        messages.warning(
            request,
            _(
                "Possible existing record of this person: %(references)s. Review it under "
                "Duplicates."
            )
            % {"references": references},
        )
    if found.elsewhere:
        messages.warning(
            request,
            _(
                "A possible match exists in records you cannot see. Ask the national "
                "coordinator's office to check it."
            ),
        )


def registration_matches_for_api(actor, person) -> dict:
    found = registration_matches(actor, person)
    if found is None:
        return {"in_scope": [], "elsewhere": False}
    return {"in_scope": [p.reference for p in found.in_scope], "elsewhere": found.elsewhere}


def forget_keys_of_anonymised(sender, instance, **kwargs) -> None:
    """An anonymised person's registration keys go with its identity (they are hashes of its
    names, date of birth and numbers), as the person's name search entries do."""
    if getattr(instance, "anonymised_at", None) is None:
        return
    from streha.linkage.models import BlockingKey, KeyDigest

    BlockingKey.objects.filter(person_id=instance.pk).delete()
    KeyDigest.objects.filter(person_id=instance.pk).delete()
