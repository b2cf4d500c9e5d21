"""The book's machinery: build, parameters and profiles, results, claims and ledger, prose and
plotting. May import every layer below it (experiments, nets, data, measure).

Modules: :mod:`.build`, :mod:`.params`, :mod:`.results`, :mod:`.claims` (the registry of
claims and findings), :mod:`.ledger`, :mod:`.prose`, :mod:`.plotting`.
"""
