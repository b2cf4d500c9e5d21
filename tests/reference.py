"""Plain reference implementations shared by several test files.

Kept deliberately naive: the fast library code is checked against these.
"""

import itertools


def brute_force_min_cover(within):
    """Size of the smallest set of rows of the boolean matrix ``within`` whose union is all True."""
    n_sets = len(within)
    for size in range(1, n_sets + 1):
        for subset in itertools.combinations(range(n_sets), size):
            if within[list(subset)].any(axis=0).all():
                return size
    raise AssertionError("the rows do not cover every column")
