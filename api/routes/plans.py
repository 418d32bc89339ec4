"""Plans: the newest, one by id, and new ones on request (a planner's or finance scenario)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import SessionDep, allowed
from api.errors import NotFound
from api.schemas import PlanCreate, PlanPublic
from homeward import planning, repository
from homeward.roles import Action
from models import PlanRow

router = APIRouter(prefix="/v1/plans", tags=["plans"])


def _public(row: PlanRow) -> PlanPublic:
    return PlanPublic(
        id=row.id,
        run_id=row.run_id,
        config_id=row.config_id,
        created_at=row.created_at,
        status=row.status,
        objective_weighted_wait_days=row.objective_weighted_wait_days,
        solve_seconds=row.solve_seconds,
        result=row.result,
    )


@router.get("/latest", response_model=PlanPublic, dependencies=[allowed(Action.READ)])
def latest_plan(session: SessionDep) -> PlanPublic:
    """The newest plan, from the pipeline or a request."""
    row = repository.latest_plan(session)
    if row is None:
        raise NotFound("no plan yet: the pipeline has not run, or POST /v1/plans to make one")
    return _public(row)


@router.get("/{plan_id}", response_model=PlanPublic, dependencies=[allowed(Action.READ)])
def get_plan(plan_id: int, session: SessionDep) -> PlanPublic:
    """One plan by id."""
    row = session.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"no plan with id {plan_id}")
    return _public(row)


@router.post(
    "",
    response_model=PlanPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.PLAN)],
)
def create_plan(request: PlanCreate, session: SessionDep) -> PlanPublic:
    """Solve a plan from the newest forecasts with the given (or active) config, and store it.

    A config sent here is kept as a scenario: it does not replace the active config.
    """
    stored = planning.plan_scenario(session, request.config, request.solver)
    return _public(session.get_one(PlanRow, stored.plan_id))
