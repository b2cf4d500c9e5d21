"""The book's networks: models, deterministic training, the model suite per profile, a small
torch-free representation and the on-disk cache. May import helpers.data and helpers.measure.

Modules: :mod:`.models`, :mod:`.train`, :mod:`.suite`, :mod:`.representations`, :mod:`.cache`.
"""
