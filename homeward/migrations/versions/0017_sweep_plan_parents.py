"""link the plan runs of sweeps stored before 0012 to their sweep, from the sweep's own rows

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_BATCH = 500  # sweep runs, and plan ids per IN (...): far below either database's limits

# the tables as this revision has them, not the app's models, which move on
_runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("trigger", sa.String),
    sa.column("sweep", sa.JSON),
    sa.column("parent_run_id", sa.Integer),
)
_plans = sa.table("plans", sa.column("id", sa.Integer), sa.column("run_id", sa.Integer))


def upgrade() -> None:
    # 0012 left parent_run_id null in older rows, and retention keeps a sweep with its plan runs
    # only through it, so a purge split such a sweep. Which sweep made a plan run is stored,
    # though, in the sweep's rows: each rate's `plan_id`, and `compared_with_plan_id` where the
    # sweep planned its sent config's own rate as its baseline. A run is linked only if it is a
    # sweep's plan run (kind plan, trigger sweep), stored after the sweep (a sweep's plans are
    # made after it is recorded) and not linked already; the baseline of the active config's
    # plan is never a sweep's plan run, so it is never linked
    bind = op.get_bind()
    for sweep_id, plan_ids in _named_plans(bind):
        for chunk in _chunks(sorted(plan_ids)):
            run_ids = bind.execute(
                sa.select(_plans.c.run_id).where(_plans.c.id.in_(chunk))
            ).scalars()
            wanted = sorted({r for r in run_ids if r is not None and r > sweep_id})
            if not wanted:
                continue
            bind.execute(
                _runs.update()
                .where(
                    _runs.c.id.in_(wanted),
                    _runs.c.kind == "plan",
                    _runs.c.trigger == "sweep",
                    _runs.c.parent_run_id.is_(None),
                )
                .values(parent_run_id=sweep_id)
            )


def _named_plans(bind: sa.Connection) -> Iterator[tuple[int, set[int]]]:
    """(sweep run id, the plan ids its rows name), each sweep in id order, read a batch of
    sweep runs at a time (JSON decoded in Python: SQLite and PostgreSQL alike)."""
    after = 0
    while True:
        batch = bind.execute(
            sa.select(_runs.c.id, _runs.c.sweep)
            .where(_runs.c.kind == "sweep", _runs.c.id > after)
            .order_by(_runs.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        for sweep_id, rows in batch:
            named = {
                row.get(key)
                for row in (rows if isinstance(rows, list) else [])
                if isinstance(row, dict)
                for key in ("plan_id", "compared_with_plan_id")
            }
            plan_ids = {i for i in named if isinstance(i, int) and not isinstance(i, bool)}
            if plan_ids:
                yield sweep_id, plan_ids
        after = batch[-1][0]


def _chunks(ids: list[Any]) -> Iterator[list[Any]]:
    return (ids[i : i + _BATCH] for i in range(0, len(ids), _BATCH))


def downgrade() -> None:
    # nothing to undo: parent_run_id is 0012's column and stays; the links filled in are what
    # a sweep run since 0012 records itself, and a release before this one reads them as such
    pass
