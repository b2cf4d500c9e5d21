"""The claims registry: each verdict rule on numbers, and the registry against the smoke book.

The rules are tested on hand-made values, edge cases included. The smoke book (built once per
session by the ``smoke_book`` fixture of ``conftest.py``) must let the registry measure every
claim and finding, with today's verdicts, and renaming one recorded result must be caught.
"""

from __future__ import annotations

import json
import shutil

import pytest

from helpers.book import claims, ledger
from helpers.measure.verdicts import CLAIM_VERDICTS, GUIDELINE_VERDICTS

CLAIM = {claim.number: claim for claim in claims.CLAIMS}

#: The smoke book's verdicts (issue 21: the redesign must leave them as they were).
SMOKE_VERDICTS = {
    "1a": "fails", "1b": "holds", "2": "holds", "3": "fails", "4": "undecided",
    "5": "cannot be tested", "6": "undecided", "7a": "cannot be tested", "7b": "fails",
    "8": "fails", "9": "cannot be tested", "10": "cannot be tested", "11": "contradicted",
    # 13 (PCA before quantizing): "contradicted" since issue 22 item 6 counts a coordinate at
    # precision p as log2(2^p + 1) bits; below one bit per coordinate all d_Z do not fit
    "12": "contradicted", "13": "contradicted", "14": "undecided"}


# --------------------------------------------------------------------------- the registry


def test_the_registry_is_well_formed():
    numbers = [claim.number for claim in claims.CLAIMS]
    assert numbers == list(SMOKE_VERDICTS) and len(set(numbers)) == len(numbers)
    assert len({finding.name for finding in claims.FINDINGS}) == len(claims.FINDINGS)
    for claim in claims.CLAIMS:
        assert claim.chapter in (*claims.CHAPTERS, claims.EXECUTION), claim.number
        assert claim.reads and claim.units and claim.section
        # a claim reads its own chapter, and its chapter's own verdict is one of its reads
        assert {key.chapter for key in claim.reads} == {claim.chapter}, claim.number
        if claim.chapter_verdict and claim.kind == "claim":
            assert claim.chapter_verdict in {key.name for key in claim.reads}
        names = [key.name for key in claim.reads]
        assert len(set(names)) == len(names), claim.number
    # findings may also read the appendix chapters, which test no claim
    known = (*claims.CHAPTERS, *ledger.APPENDIX_CHAPTERS, claims.EXECUTION)
    for chapter, names in claims.keys_read().items():
        assert chapter in known and names, chapter


def test_value_types_and_their_edge_cases():
    ok, kinds = claims.type_ok, claims.TYPES
    assert set(kinds) >= {"number", "count", "interval", "verdict", "verdicts", "numbers"}
    assert ok(3, "count") and ok(0, "count") and not ok(-1, "count")
    assert not ok(True, "count") and not ok(3.0, "count") and not ok("3", "count")
    assert ok(0.5, "number") and ok(2, "number") and not ok(float("nan"), "number")
    assert not ok(None, "number") and ok(None, "number?") and not ok("1", "number?")
    assert ok([1, 2.5], "interval") and ok([2, 2], "interval")
    assert not ok([3, 2], "interval") and not ok([1], "interval") and not ok("1 to 2", "interval")
    assert ok(None, "interval?") and not ok(None, "interval")
    assert ok({"A": "holds", "B": "cannot be tested"}, "verdicts") and ok({}, "verdicts")
    assert not ok({"A": "cannot be tested (fewer than 4 precisions)"}, "verdicts")
    assert not ok({"A": "cannot be decided"}, "verdicts")
    assert ok({"g": "mixed"}, "guidelines") and not ok({"g": "holds"}, "guidelines")
    assert ok("undecided", "verdict") and not ok("supported", "verdict")
    assert ok([], "numbers") and not ok([1, None], "numbers") and ok([1, None], "numbers_or_nulls")
    with pytest.raises(ValueError, match="unknown type"):
        claims.Key("greedy_covering", "x", "sentence")


def test_read_values_says_what_is_missing_or_mistyped():
    keys = claims._keys("greedy_covering", "rep_dim:count curve_seconds_10k:number?")
    good = {"greedy_covering": {"results": {"rep_dim": {"value": 64},
                                            "curve_seconds_10k": {"value": None}}}}
    assert claims.read_values(keys, good) == {"rep_dim": 64, "curve_seconds_10k": None}
    with pytest.raises(claims.Missing) as missing:
        claims.read_values(keys, {})
    assert "greedy_covering.json is missing" in missing.value.reason()
    with pytest.raises(claims.Missing) as missing:
        claims.read_values(keys, {"greedy_covering": {"results": {"rep_dim": {"value": 64}}}})
    assert "has no result 'curve_seconds_10k'" in missing.value.reason()
    bad = {"greedy_covering": {"results": {"rep_dim": {"value": "64"},
                                           "curve_seconds_10k": {"value": 1.0}}}}
    with pytest.raises(claims.Missing) as missing:
        claims.read_values(keys, bad)
    assert "'rep_dim'" in missing.value.reason() and "'count'" in missing.value.reason()
    parameter = claims._keys("curvature_threshold", "parameters.quantile:number")
    payload = {"curvature_threshold": {"parameters": {"quantile": 0.9}, "results": {}}}
    assert claims.read_values(parameter, payload) == {"quantile": 0.9}
    with pytest.raises(claims.Missing) as missing:
        claims.read_values(claims._keys(claims.EXECUTION, "chapters:record"), {}, None)
    assert claims.EXECUTION_FILE in missing.value.reason()


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(("net", "entropy", "verdict"), [
    (1, 0.0, "holds"), (1, 1e-12, "holds"), (1, 10.0, "fails"), (4, 2.0, "holds"),
    (4, 2.01, "fails")])
def test_lemma_rule(net, entropy, verdict):
    assert CLAIM["1a"].rule({"corner_net": net, "corner_entropy": entropy}) == verdict


def test_sandwich_and_covering_rules_count_violations():
    rule = CLAIM["1b"].rule
    assert rule({"shape_violations": 0, "rep_violations": 0}) == "holds"
    assert rule({"shape_violations": 1, "rep_violations": 0}) == "fails"
    assert rule({"shape_violations": 0, "rep_violations": 2}) == "fails"
    assert CLAIM["2"].rule({"exp1_violations": 0}) == "holds"
    assert CLAIM["2"].rule({"exp1_violations": 1}) == "fails"
    assert CLAIM["3"].rule({"arc_split_bits": [2.0, 2.0]}) == "fails"  # by the proof


@pytest.mark.parametrize(("number", "key"), [
    ("4", "elbow_verdicts"), ("5", "corr_unsat_verdicts"), ("6", "threshold_verdicts"),
    ("7a", "diff8_verdicts"), ("7b", "moving_verdicts"), ("8", "gap_verdicts")])
def test_claims_about_every_model_combine_the_per_model_verdicts(number, key):
    rule = CLAIM[number].rule
    assert rule({key: {}}) == "cannot be tested"  # nothing could be compared
    assert rule({key: {"A": "holds", "B": "holds"}}) == "holds"
    assert rule({key: {"A": "holds", "B": "fails", "C": "cannot be tested"}}) == "fails"
    assert rule({key: {"A": "holds", "B": "cannot be tested"}}) == "undecided"
    assert rule({key: {"A": "undecided", "B": "holds"}}) == "undecided"
    assert rule({key: {"A": "cannot be tested", "B": "cannot be tested"}}) == "cannot be tested"


@pytest.mark.parametrize(("dim", "seconds", "verdict"), [
    (128, 45.0, "holds"), (128, 10.0, "holds"), (128, 45.01, "fails"),
    (128, None, "cannot be tested"), (64, 1.0, "cannot be tested"),
    (64, None, "cannot be tested")])
def test_speed_rule_reads_about_30_s_as_at_most_45_s_at_the_claims_size(dim, seconds, verdict):
    values = {"rep_dim": dim, "curve_seconds_10k": seconds, "curve_n": 10_000,
              "curve_seconds": seconds or 1.0, "grid_count": 8, "cpu_count": 2}
    assert CLAIM["9"].rule(values) == verdict
    reason = CLAIM["9"].reason(values, verdict)
    assert ("cannot be tested" in reason) == (verdict == "cannot be tested")


def _execution(profile="full", seconds=600.0, **network):
    return {"profile": profile, "machine": {"cpu_count": 4},
            "chapters": [{"name": f"0{i + 1}_{name}", "seconds": seconds, "profile": profile}
                         for i, name in enumerate(claims.CHAPTERS)],
            "training_stage": {"seconds": 60.0, "skipped": [], "networks": [
                {"label": "CNN-MNIST", "test_accuracy": 0.95, "cache_hit": False,
                 **network}]}}


def test_budget_rule_needs_a_complete_full_build():
    rule = CLAIM["10"].rule
    assert rule(_execution()) == "holds"
    # every chapter at the same time and 60 s of training: exactly 6 h, the "about 4 hours"
    # limit, at the boundary
    boundary = (4 * 3600 * claims.ABOUT_FACTOR - 60) / len(claims.CHAPTERS)
    assert rule(_execution(seconds=boundary - 1e-6)) == "holds"  # a sum of floats may round up
    assert rule(_execution(seconds=boundary + 1.0)) == "fails"
    assert rule(_execution(profile="default")) == "cannot be tested"
    assert rule(_execution(cache_hit=True)) == "cannot be tested"
    assert rule(_execution(test_accuracy=0.5)) == "cannot be tested"
    partial = _execution()
    partial["chapters"].pop()
    assert rule(partial) == "cannot be tested"
    untrained = _execution()
    untrained["training_stage"] = None
    assert rule(untrained) == "cannot be tested"
    assert "no training stage" in CLAIM["10"].reason(untrained, "cannot be tested")


def test_guideline_rules_weigh_evidence_for_and_against():
    assert CLAIM["11"].rule({"safe_holds": 3, "safe_fails": 0, "safe_models": 4}) == "supported"
    assert CLAIM["11"].rule({"safe_holds": 2, "safe_fails": 6, "safe_models": 8}) == (
        "contradicted")
    assert CLAIM["12"].rule({"lowered_pairs": 0, "raised_count": 1, "sn_pairs": 4}) == (
        "contradicted")
    assert CLAIM["12"].rule({"lowered_pairs": 0, "raised_count": 0, "sn_pairs": 0}) == (
        "undecided")
    assert CLAIM["13"].rule({"pca_helps": 5, "pca_hurts": 2, "pca_neutral": 1}) == "mixed"
    assert CLAIM["13"].rule({"pca_helps": 2, "pca_hurts": 0, "pca_neutral": 2}) == "undecided"
    rule = CLAIM["14"].rule
    assert rule({"monitor_rhos": [None, None]}) == "undecided"  # ρ not defined: no evidence
    assert rule({"monitor_rhos": [0.5, 0.9]}) == "supported"
    assert rule({"monitor_rhos": [0.0, -0.4]}) == "contradicted"
    assert rule({"monitor_rhos": [0.8, -0.4]}) == "mixed"
    assert rule({"monitor_rhos": [0.3, 0.2]}) == "undecided"
    for number in ("11", "12", "13", "14"):
        assert CLAIM[number].kind == "guideline"
        assert set(claims.GUIDELINE_RULES) == set(GUIDELINE_VERDICTS)


def test_every_rule_answers_in_its_vocabulary():
    for claim in claims.CLAIMS:
        assert claim.verdicts == (GUIDELINE_VERDICTS if claim.kind == "guideline"
                                  else CLAIM_VERDICTS)


# --------------------------------------------------------------------------- the smoke book


def _measured_everywhere(results: dict, execution: dict | None):
    """Raise AssertionError naming every claim or finding the registry cannot measure."""
    problems = claims.registry_problems(results, execution)
    assert problems == [], "\n".join(problems)
    rows = ledger.ledger_rows(results, execution)
    unmeasured = [row["#"] for row in rows if row["verdict"] == ledger.NOT_MEASURED_VERDICT]
    assert unmeasured == [], unmeasured
    return rows


def test_every_claim_of_the_smoke_book_is_measured_with_its_verdict(smoke_results):
    results = ledger.load_results(smoke_results)
    rows = _measured_everywhere(results, ledger.load_execution(smoke_results))
    assert {row["#"]: row["verdict"] for row in rows} == SMOKE_VERDICTS
    for name, text in ledger.findings(results).items():
        assert not text.startswith("Not measured"), (name, text)
    assert all(row["measured"] != ledger.NOT_MEASURED for row in rows)


def test_every_key_a_claim_reads_is_written_by_its_chapter(smoke_results):
    results = ledger.load_results(smoke_results)
    execution = ledger.load_execution(smoke_results)
    for chapter, names in claims.keys_read().items():
        if chapter == claims.EXECUTION:
            assert set(names) <= set(execution), names
            continue
        written = set(results[chapter]["results"])
        parameters = {f"{claims.PARAMETER}{name}" for name in results[chapter]["parameters"]}
        assert set(names) <= written | parameters, (chapter, sorted(set(names) - written))


def test_renaming_a_recorded_key_unmeasures_its_claim_and_fails_the_check(smoke_results,
                                                                        tmp_path):
    copy = shutil.copytree(smoke_results, tmp_path / "results")
    path = copy / "lipschitz_regularization.json"
    payload = json.loads(path.read_text())
    # what a contributor might do: rename a result in the chapter, and nowhere else
    payload["results"]["diff8_span"] = payload["results"].pop("diff8_percent")
    path.write_text(json.dumps(payload))
    results, execution = ledger.load_results(copy), ledger.load_execution(copy)
    row = {row["#"]: row for row in ledger.ledger_rows(results, execution)}["7a"]
    assert row["verdict"] == ledger.NOT_MEASURED_VERDICT and "'diff8_percent'" in row["reason"]
    assert claims.registry_problems(results, execution) == [
        "claim 7a: lipschitz_regularization.json has no result 'diff8_percent'"]
    with pytest.raises(AssertionError, match="diff8_percent"):
        _measured_everywhere(results, execution)
