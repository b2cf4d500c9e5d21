"""The estimators: pure functions of arrays or callables (quantizers, covers, entropies, MI,
curvature, Lipschitz bounds, probes, statistics). Imports nothing else of ``helpers`` but
the private ``helpers._validation`` and ``helpers._threads``; knows no chapter, glue or cache.

Modules: :mod:`.quantize`, :mod:`.covering`, :mod:`.minimum_cover`, :mod:`.bounds`,
:mod:`.information`, :mod:`.information_plane`, :mod:`.mi_neural`, :mod:`.geometry`,
:mod:`.curvature`, :mod:`.lipschitz`, :mod:`.probes`, :mod:`.stats`, :mod:`.thresholds`,
:mod:`.comparison`, :mod:`.formats`, :mod:`.embedding_store`, :mod:`.stored`. Those that need torch
(``curvature``, ``lipschitz``, ``mi_neural``) or faiss (``embedding_store``) are imported on
first use, so ``from helpers.measure import quantize`` stays light.
"""
