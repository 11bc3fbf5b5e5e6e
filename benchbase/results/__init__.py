"""What trials leave behind, and how it is read back.

* ``record``: a trial's ``Status``, its typed ``TrialResult`` and ``Outcome``,
  the documented ``COLUMNS``, and ``make_row``, the one place a row is built;
* ``format``: the format's version history and ``upgrade`` of older rows;
* ``store``: a results folder (an append-only log, a derived table, run records);
* ``claims``: which trials a running run holds;
* ``artifacts``: per-trial arrays (predictions, validation scores, images);
* ``provenance``: the machine and software a result was made with;
* ``summary``: mean ± std over seeds, the best seed.
"""
