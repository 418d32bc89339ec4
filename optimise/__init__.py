"""Allocation LP: build, solve and extract plans of staff hours and DFG capital."""

from optimise.build import build_model
from optimise.errors import PlanInputError
from optimise.extract import extract
from optimise.model import LpModel
from optimise.plan import plan, write_mps
from optimise.result import PlanResult, PlanStatus
from optimise.solution import SolveResult, SolveStatus
from optimise.solve import solve

__all__ = [
    "LpModel",
    "PlanInputError",
    "PlanResult",
    "PlanStatus",
    "SolveResult",
    "SolveStatus",
    "build_model",
    "extract",
    "plan",
    "solve",
    "write_mps",
]
