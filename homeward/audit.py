"""Who did what: the name a write is recorded under (`created_by` on imports, configs, runs
and plans, `actor` in the audit trail), and the audit trail's entries.

A request's writes are recorded under its API key's name (`finance-team`: never the secret),
or `(auth off)` with HOMEWARD_AUTH=off, where no key is read. What acts without a request is
named in parentheses, which no key's name can begin with (homeward.api_keys.NAME_PATTERN), so a
marker is never taken for a key: `(cli)` for a command run at the shell (`homeward import`,
`demo`, `purge`), `(scheduler)` for the scheduler's own pipeline runs (trigger `scheduler`,
and `recovery`, its retry of a run a stop cut off). Null (`created_by` only) is a row stored
before it was recorded (migration 0015).

The audit trail (`audit_events`, GET /v1/audit; written by homeward.repository.record_audit)
is append-only: each entry is written in the transaction of what it records, so a delete that
rolls back leaves none, and none is ever changed or deleted (`homeward purge` keeps them).
"""

from __future__ import annotations

from models.tables import RunTrigger

AUTH_OFF = "(auth off)"
CLI = "(cli)"
SCHEDULER = "(scheduler)"

# who a run made without a request is recorded under, by its trigger (a run a request makes,
# trigger `api`, is its key's; a sweep's plan runs, trigger `sweep`, the sweep's)
_BY_TRIGGER: dict[RunTrigger, str] = {"scheduler": SCHEDULER, "recovery": SCHEDULER, "demo": CLI}


def of_trigger(trigger: RunTrigger) -> str | None:
    """Who a run of `trigger` is recorded under when no one is named for it."""
    return _BY_TRIGGER.get(trigger)
