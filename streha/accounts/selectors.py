"""Reading accounts."""

import threading

from allauth.mfa.models import Authenticator
from django.db import connections, router
from django.db.models import Exists, OuterRef, Subquery

from streha.accounts.models import RoleGrant, User
from streha.cases.selectors_batch import model_instances
from streha.sql import JoinedCodes, split_codes

# Stands for the user's key while the query is compiled (never a key: keys are positive).
_ANY_USER = -(2**62) - 17
_COMPILED = threading.local()


def _signed_in_users():
    from streha.jobs.models import Job

    roles = (
        RoleGrant.objects.effective()
        .filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(joined=JoinedCodes("role"))
        .values("joined")
    )
    totp = Authenticator.objects.filter(user_id=OuterRef("pk"), type=Authenticator.Type.TOTP)
    return User._default_manager.select_related("agency").annotate(
        effective_roles=Subquery(roles),
        totp_enrolled=Exists(totp),
        has_started_job=Exists(Job.objects.filter(started_by_id=OuterRef("pk"))),
    )


def _compiled(using: str):
    """(queryset, compiler, SQL, parameters, position of the user's key) of the signed-in user's
    query, compiled once per thread and database: only the key differs between requests, and
    compiling the query (its joins, a grouped subquery, two EXISTS) cost more than running it
    (4.6 ms of a 12 ms page on SQLite)."""
    cache = getattr(_COMPILED, "by_database", None)
    if cache is None:
        cache = _COMPILED.by_database = {}
    found = cache.get(using)
    if found is None:
        queryset = _signed_in_users().using(using).filter(pk=_ANY_USER)
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        [position] = [i for i, value in enumerate(params) if value == _ANY_USER]
        found = cache[using] = (queryset, compiler, sql, tuple(params), position)
    return found


def signed_in_user(user_id) -> User | None:
    """The user a session names, as every request needs them, in ONE query: with their agency,
    their effective roles (``User.roles``), whether they enrolled a second factor
    (``two_factor_enrolled``) and whether they ever started a background job (``started_a_job``,
    for the menu). Four more round trips on every page otherwise, and each waits for a core
    when the machine is busy (issue 17)."""
    using = router.db_for_read(User)
    queryset, compiler, sql, params, position = _compiled(using)
    params = list(params)
    params[position] = int(user_id)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    users = model_instances(queryset, compiler, rows)
    if not users:
        return None
    [user] = users
    user._roles_cache = split_codes(user.effective_roles)
    return user


def two_factor_enrolled(user: User) -> bool:
    """Whether ``user`` has a TOTP device: read with the user for a request
    (``signed_in_user``), else asked now."""
    known = getattr(user, "totp_enrolled", None)
    if known is not None:
        return known
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def started_a_job(user: User) -> bool:
    """Whether ``user`` ever started a background job: read with the user for a request
    (``signed_in_user``), else asked now."""
    from streha.jobs.models import Job

    known = getattr(user, "has_started_job", None)
    if known is not None:
        return known
    return Job.objects.filter(started_by=user).exists()
