"""Numerics the algorithm plugins share: the Gaussian kernel, the ridge solver,
blocked products (``linalg``) and where arrays live, CPU or GPU (``devices``).

Written once for every kernel or ridge method (KELM, RELM, the autoencoders'
KELM head; a third-party plugin may use them too). The core never imports
this package (``tests/test_layout.py`` checks): a trial's harness does not
depend on any algorithm's numerics.
"""
