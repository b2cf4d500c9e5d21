"""The chapters' measurements on the model suite, each with its result cache (model curvature,
model Lipschitz bounds, MI per precision, paired comparisons). May import nets, data, measure.

Modules: :mod:`.curvature`, :mod:`.lipschitz`, :mod:`.information_plane`, :mod:`.comparison`.
"""
