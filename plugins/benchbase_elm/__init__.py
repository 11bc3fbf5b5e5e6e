"""benchbase's built-in ELM family: ELM, RELM and KELM (one plugin module each).

The public API, for users and for other plugins (the autoencoders' classifier
head is this KELM; the ELM autoencoders build on the rest): the three
estimators, KELM's grid scorer, the classifier plumbing they share
(``LabelTargetsMixin``: validation, targets, labels), the parameter check,
the grid-scorer helpers and the memory budget a fit plans within.
"""

from benchbase_elm._base import LabelTargetsMixin, candidate, check_positive, grid_values
from benchbase_elm.elm import ELMClassifier
from benchbase_elm.kelm import KELMClassifier, score_kelm_grid
from benchbase_elm.memory import memory_budget
from benchbase_elm.relm import RELMClassifier

__all__ = ["ELMClassifier", "KELMClassifier", "LabelTargetsMixin", "RELMClassifier",
           "candidate", "check_positive", "grid_values", "memory_budget",
           "score_kelm_grid"]
