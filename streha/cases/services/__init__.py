"""Writes on victim cases: the NRM state machine and everything that hangs off it.

This package is the only place a case's ``status`` changes. Each transition
- asks the access policy whether the actor may make it (``PermissionDenied`` otherwise),
- checks the case is in a stage the transition starts from (``ValidationError`` otherwise),
- checks the caller's ``expected_version`` (optimistic locking: ``CaseConflict`` otherwise, so
  two people editing the same case never silently overwrite each other),
- writes the change, a ``CaseEvent`` (who, when, why) and an audit event in one transaction,
- creates the dated tasks the next stage needs and closes those it made obsolete.

The writes are split by sub-domain, one module each (``base`` holds what they share); this
package re-exports them, so callers write ``services.open_case``.
"""

from streha.cases.services.anonymisation import *  # noqa: F403
from streha.cases.services.base import *  # noqa: F403
from streha.cases.services.children import *  # noqa: F403
from streha.cases.services.plan import *  # noqa: F403
from streha.cases.services.profile import *  # noqa: F403
from streha.cases.services.records import *  # noqa: F403
from streha.cases.services.referrals import *  # noqa: F403
from streha.cases.services.reminders import *  # noqa: F403
from streha.cases.services.transitions import *  # noqa: F403
from streha.cases.services.work import *  # noqa: F403
