"""What a trial is, and what runs inside its process.

* ``task``: ``Trial`` (algorithm × dataset × protocol × seed), its key, and
  ``TrialTask``, the small picklable form an executor runs;
* ``splits``: protocols, the per-seed train/test subsets, validation splits;
* ``evaluate``: select on validation data, refit, test once, timed, returning
  one ``benchbase.results.record.TrialResult``;
* ``selection``: the full grid or successive halving, and the rules' versions;
* ``scoring``: predictions checked against the data, candidates scored;
* ``estimator``: an algorithm's estimator made, its parameters checked;
* ``threads``: BLAS, torch and Numba threads capped for the trial.
"""
