"""benchbase's built-in autoencoder family: AE, SAE, DAE, DDAE (a plugin module each).

Importing this package (or any plugin module) does not import torch; training does.
"""

from benchbase_ae.ae import AEClassifier
from benchbase_ae.dae import DAEClassifier
from benchbase_ae.ddae import DDAEClassifier
from benchbase_ae.sae import SAEClassifier

__all__ = ["AEClassifier", "DAEClassifier", "DDAEClassifier", "SAEClassifier"]
