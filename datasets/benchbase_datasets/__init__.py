"""benchbase's built-in datasets, each registered through the ``benchbase`` hook."""
