"""recsys-lab's engine: data, models, evaluation, cold start and projections.

Plain Python with no streamlit import, usable from a notebook, the CLI
(``python -m recsys_core``) and the dashboard alike.
"""
from .dataset import Dataset
from .errors import ColdStartError, DataValidationError, NotFittedError, UnknownIdError

__all__ = ["Dataset", "DataValidationError", "NotFittedError", "UnknownIdError", "ColdStartError"]
