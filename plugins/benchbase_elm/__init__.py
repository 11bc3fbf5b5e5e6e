"""benchbase's built-in ELM family: ELM, RELM and KELM (one plugin module each)."""

from benchbase_elm.elm import ELMClassifier
from benchbase_elm.kelm import KELMClassifier
from benchbase_elm.relm import RELMClassifier

__all__ = ["ELMClassifier", "KELMClassifier", "RELMClassifier"]
