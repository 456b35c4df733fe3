"""The audit log: append-only, hash-chained events about personal data.

Each ``AuditEvent`` stores the SHA-256 of its own content (``hash``) and the hash of the event
before it (``prev_hash``), so changing, removing or reordering any stored event breaks the chain
at that point; ``services.verify_chain`` (``streha audit verify``) finds the first break.
``AuditChainHead`` is a one-row table holding the position and hash of the last event: appenders
lock it to take turns, and it reveals a removed *last* event, which the links alone cannot.

Three layers keep the log append-only:

1. The ORM: ``AuditEvent.save()`` only inserts, ``delete()`` refuses, and the queryset refuses
   ``update()`` and ``delete()``.
2. The database: triggers (installed by migration 0002, SQL in ``streha.audit.triggers``) reject
   UPDATE, DELETE and (PostgreSQL) TRUNCATE on the events, and any change to the head other than
   moving it forward, whoever connects.
3. The chain: whoever can bypass the triggers can still tamper. A DBA or the table owner can
   ``DROP TRIGGER`` (SQLite, PostgreSQL) or ``ALTER TABLE audit_event DISABLE TRIGGER USER``
   (PostgreSQL), or edit the SQLite file with any tool. Such edits are not prevented but are
   detected: verification names the first event whose content, link or position no longer fits.
   A complete rewrite (every later hash recomputed and the head updated), a rewound head or
   a truncated tail escapes the chain alone, because the hash is not keyed; against that,
   ``streha.audit.checkpoints`` signs checkpoints with a key the database never holds and
   keeps them outside it, and ``streha audit verify`` checks the chain against them. On
   PostgreSQL, ``streha db roles`` keeps the application's own role from touching the
   triggers at all.

Actor and agency are kept as ids without foreign-key constraints (``db_constraint=False``,
``DO_NOTHING``), plus a snapshot of username and agency code: renaming or deleting a user or
agency must never rewrite, cascade into or block on audit rows.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditLogIsAppendOnly(Exception):
    """Someone tried to change or delete an audit event (or rewind the chain head)."""


class Action(models.TextChoices):
    CREATE = "create", _("Create")
    READ = "read", _("Read")
    LIST = "list", _("List")
    SEARCH = "search", _("Search")
    UPDATE = "update", _("Update")
    DELETE = "delete", _("Delete")
    EXPORT = "export", _("Export")
    BREAK_GLASS = "break_glass", _("Break-glass access")
    ANONYMISE = "anonymise", _("Anonymise")
    KEY_ROTATION = "key_rotation", _("Key rotation")
    REVIEW = "review", _("Review")
    SYSTEM_READ = "system_read", _("System decryption")
    NOTIFY = "notify", _("Notification")


class AuditEventQuerySet(models.QuerySet):
    """Bulk writes that would rewrite history are refused before any SQL is sent."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")

    def delete(self):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")

    # bulk_update goes through update(); named here so the refusal is explicit.
    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditLogIsAppendOnly("Audit events cannot be updated.")


class AuditEvent(models.Model):
    """One act on personal data (or on the protection of it). Never personal data itself.

    Create events only through ``streha.audit.services``, which assigns ``seq``, ``prev_hash``
    and ``hash`` under the chain lock.
    """

    seq = models.PositiveBigIntegerField(_("position"), unique=True)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the (actor, -seq) index below serves lookups by actor
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    agency = models.ForeignKey(
        "accounts.Agency",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the (agency, -seq) index below serves lookups by agency
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agency"),
    )
    agency_code = models.CharField(_("agency code"), max_length=60, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    field_groups = models.JSONField(_("field groups"), default=list, blank=True)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    break_glass = models.BooleanField(_("under break-glass"), default=False)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "audit_event"
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-seq"], name="audit_event_object"),
            models.Index(fields=["actor", "-seq"], name="audit_event_actor"),
            models.Index(fields=["agency", "-seq"], name="audit_event_agency"),
            models.Index(fields=["action", "-seq"], name="audit_event_action"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type} {self.object_id}".rstrip()

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update"):
            raise AuditLogIsAppendOnly("Audit events cannot be updated.")
        if not (self.seq and self.hash):
            raise ValueError("Record audit events with streha.audit.services, not save().")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The single row (id 1) naming the last event of the chain; appenders lock it to take turns."""

    SINGLETON_ID = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON_ID)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        db_table = "audit_chain_head"
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")
        ]
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash}"

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("The audit chain head cannot be deleted.")


class AuditSubject(models.Model):
    """Which persons an event concerns: the index behind a person's trail ("who saw this
    person"), whichever object the event names (the person, a case, a referral, a document).

    Derived from ``AuditEvent.details["subjects"]``, which the hash covers; verification checks
    that these rows match it, so removing or adding a row here is detected like any other edit.
    Append-only like the events (ORM and database triggers).
    """

    event_seq = models.PositiveBigIntegerField(_("position"))
    person_id = models.PositiveBigIntegerField(_("person"))

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        db_table = "audit_subject"
        indexes = [models.Index(fields=["person_id", "-event_seq"], name="audit_subject_person")]
        constraints = [
            models.UniqueConstraint(fields=["event_seq", "person_id"], name="audit_subject_once")
        ]
        verbose_name = _("audit subject")
        verbose_name_plural = _("audit subjects")

    def __str__(self) -> str:
        return f"#{self.event_seq} person {self.person_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("Audit subjects cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("Audit subjects cannot be deleted.")
