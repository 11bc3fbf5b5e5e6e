"""A complete third-party benchbase plugin: scikit-learn's nearest-centroid classifier."""

from sklearn.neighbors import NearestCentroid

import benchbase


@benchbase.hookimpl
def benchbase_register_algorithms():
    return [
        benchbase.AlgorithmSpec(
            name="NearestCentroid",
            family="baseline",
            factory=NearestCentroid,
            # Chosen on the validation split by the harness, like the built-ins.
            search_space={"shrink_threshold": [None, 0.1, 0.5]},
            randomized=False,
            description="Nearest class centroid (a sanity baseline)",
        )
    ]
