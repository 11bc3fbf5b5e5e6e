"""The ELM autoencoders: ELM-AE, ML-ELM and H-ELM, a plugin of their own.

Written as a third party would write it: against benchbase's public API
(``benchbase.AlgorithmSpec``, ``benchbase.numerics``) and benchbase_elm's
exported names, registered through the ``benchbase`` entry-point group.
All three are trained without backpropagation, so their family is "ELM".
docs/elm-autoencoders.md says what each paper leaves open and how we read it.
"""

from benchbase_elmae.elmae import ELMAEClassifier
from benchbase_elmae.helm import HELMClassifier
from benchbase_elmae.mlelm import MLELMClassifier

__all__ = ["ELMAEClassifier", "HELMClassifier", "MLELMClassifier"]
