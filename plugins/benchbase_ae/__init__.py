"""benchbase's built-in autoencoder family: AE, SAE, DAE, DDAE (a plugin module each).

The four are one estimator, ``StackedAutoencoderClassifier``, registered with
different defaults and search spaces. Importing this package (or any plugin
module) does not import torch; training does.
"""

from benchbase_ae._estimator import StackedAutoencoderClassifier

__all__ = ["StackedAutoencoderClassifier"]
