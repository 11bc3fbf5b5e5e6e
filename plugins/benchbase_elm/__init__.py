"""benchbase's built-in ELM family: ELM, RELM and KELM (one plugin module each).

The public API, for users and for other plugins (the autoencoders' classifier
head is this KELM): the three estimators, KELM's grid scorer and the parameter
check they share.
"""

from benchbase_elm._base import check_positive
from benchbase_elm.elm import ELMClassifier
from benchbase_elm.kelm import KELMClassifier, score_kelm_grid
from benchbase_elm.relm import RELMClassifier

__all__ = ["ELMClassifier", "KELMClassifier", "RELMClassifier", "check_positive",
           "score_kelm_grid"]
