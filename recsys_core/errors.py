"""Exception classes of recsys_core.

Every error a person can cause (a malformed file, an unknown id, a model used
before it is fitted) has its own class, raised at the edge with a message
written for a person, so the dashboard and the CLI can show it as it is.
"""
from __future__ import annotations


class RecsysError(Exception):
    """Base class of every error recsys_core raises on purpose."""


class DataValidationError(RecsysError, ValueError):
    """A file or frame does not have the shape recsys_core expects.

    The message names the file, the column, the first offending rows (1-based
    line numbers as a spreadsheet or editor shows them) with their count, what
    was expected, and what to do.
    """


class NotFittedError(RecsysError, RuntimeError):
    """A method that needs a fitted model was called before ``fit``."""


class UnknownIdError(RecsysError, KeyError):
    """A raw user or item id is not in the data set the model was fitted on."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ColdStartError(RecsysError, ValueError):
    """A model cannot serve a new user described in this way (the message says why)."""


class ModelMemoryError(RecsysError, MemoryError):
    """A fit would need more memory than the machine has free; raised before allocating, with the estimate."""


class TuningError(RecsysError, ValueError):
    """Tuning cannot run as asked (too few ratings per user for a validation split, no valid trial...)."""


class ModelDivergedError(RecsysError, ArithmeticError):
    """A fit produced non-finite parameters (e.g. a learning rate too high): the model is reported as failed."""


class FeedbackKindError(RecsysError, ValueError):
    """A model cannot learn from this kind of feedback (a rating model given counts); the message says what fits."""


class ModelBusyError(RecsysError, RuntimeError):
    """A model is being fitted: it cannot be changed (e.g. forget a user) until the fit ends."""


class RerankError(RecsysError, ValueError):
    """A re-ranker cannot run as asked (no genres or tags to calibrate on, a model without item vectors...);
    the message says what is missing and which similarity or re-ranker would work instead."""


class SplitUnsuitableError(RecsysError, ValueError):
    """A model cannot be tested on this split (a model reading the order of histories on a random split);
    the message names the splits it runs on. The other models' results stand."""
