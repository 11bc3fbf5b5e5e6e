"""Before any trial runs: which trials, and what identifies each.

* ``suites``: a suite (TOML) and the command line's overrides → ``Trial``s;
* ``planner``: each trial's split hash, search grid, selection rule and key,
  its row's known fields, the datasets loaded once (``plan``);
* ``schedule``: how long a plan takes on N slots, from earlier timings.

All of this runs in the orchestrator's process.
"""
