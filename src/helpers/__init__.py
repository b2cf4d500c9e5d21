"""Helpers for the book *Information-Precision Tradeoffs in Representation Learning*.

Each module holds one concept; the chapter that introduces a helper is named in its
docstring, in the manner of d2l:

- :mod:`helpers.data` -- datasets (data directory, download, embedded default, synthetic sets);
- :mod:`helpers.quantize` -- unit-cube normalization, p-bit quantizers, occupied grid cells;
- :mod:`helpers.covering` -- greedy epsilon-nets and the certified capacity curve;
- :mod:`helpers.minimum_cover` -- exact minimum covers of tiny sets, to grade the estimators;
- :mod:`helpers.bounds` -- volumetric covering bounds and the enclosing ball;
- :mod:`helpers.information` -- entropy and mutual-information estimates with their ceilings;
- :mod:`helpers.geometry` -- nearest-neighbour scale and intrinsic dimension;
- :mod:`helpers.models`, :mod:`helpers.train`, :mod:`helpers.cache` -- the proposal's four
  models, deterministic training, and the on-disk cache keyed by parameter hash;
- :mod:`helpers.probes` -- linear probes on quantized representations;
- :mod:`helpers.suite` -- the book's model suite per profile, trained and cached;
- :mod:`helpers.stats` -- bootstrap correlation intervals and collapse thresholds;
- :mod:`helpers.curvature` -- curvature of a feature map (autograd and secant estimators);
- :mod:`helpers.thresholds` -- predicted against observed precision thresholds, elbows,
  and the verdicts on them;
- :mod:`helpers.lipschitz` -- certified upper and measured lower Lipschitz constants;
- :mod:`helpers.comparison` -- paired comparisons of model variants, with intervals;
- :mod:`helpers.mi_neural` -- InfoNCE and MINE estimates of mutual information (torch);
- :mod:`helpers.information_plane` -- gap factors, the information plane across precisions,
  and Rademacher complexities beside covering numbers;
- :mod:`helpers.representations` -- a small learned representation without torch;
- :mod:`helpers.params` -- build profiles and validated notebook parameters;
- :mod:`helpers.results` -- glued numbers and the per-chapter JSON results file;
- :mod:`helpers.ledger` -- the claims ledger and the execution statistics, from the results;
- :mod:`helpers.plotting` -- shared figure style;
- :mod:`helpers.settings` -- the data, cache and results folders;
- :mod:`helpers.build` -- the papermill + jupyter-book pipeline;
- :mod:`helpers.bench` -- benchmarks that print figures.
"""

__version__ = "0.1.0"
