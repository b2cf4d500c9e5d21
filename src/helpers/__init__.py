"""Helpers for the book *Information-Precision Tradeoffs in Representation Learning*.

The package is layered; imports run only downward, and ``lint-imports`` (``make test``)
checks it against the contract in ``pyproject.toml``:

- :mod:`helpers.book` -- build, parameters and profiles, results, the claims ledger, prose
  and plotting;
- :mod:`helpers.experiments` -- the chapters' measurements on the model suite, cached;
- :mod:`helpers.nets` -- the networks, training, the suite and the on-disk cache;
- :mod:`helpers.data` -- datasets (data directory, download, embedded default, synthetic);
- :mod:`helpers.measure` -- the estimators, pure functions of arrays and callables.

Beside them: the user-facing commands :mod:`helpers.capacity` (measure your own
representation) and :mod:`helpers.bench` (benchmarks that print figures), and the private
``_validation`` (one input check per kind of input), ``_io``, ``_settings``, ``_threads``.
Each helper's docstring names the chapter that introduces it, in the manner of d2l.
"""

__version__ = "0.1.0"
