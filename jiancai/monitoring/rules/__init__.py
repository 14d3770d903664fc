"""The cross-check rules XC01–XC20. Importing this package registers every rule in `RULES`."""

from . import catalog, concrete, contracts, prices, projects, quality, tender_results  # noqa: F401
from .base import RULES, RuleLogic

__all__ = ["RULES", "RuleLogic"]
