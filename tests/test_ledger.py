"""The claims ledger: built from hand-made results files, honest about what is missing."""

import json
import re
from pathlib import Path

import pytest

from helpers.book import claims, ledger

ROOT = Path(__file__).resolve().parents[1]


def _payload(chapter, results, *, profile="default", dataset="digits", parameters=None):
    return {"chapter": chapter, "helpers_version": "0.1.0",
            "written": "2026-01-01T12:05:00+00:00", "profile": profile, "dataset": dataset,
            "seed": 0, "parameters": {"profile": profile, "dataset": dataset, "seed": 0,
                                      **(parameters or {})},
            "results": {name: (entry if isinstance(entry, dict) and "value" in entry
                               else {"value": entry}) for name, entry in results.items()}}


SUITE = [{"model": "CNN-MNIST", "data": "digits, 1,297 train / 500 test"},
         {"model": "CNN-MNIST + SN", "data": "digits, 1,297 train / 500 test"}]


def _chapters(profile="default"):
    """Small results files with every key the registry reads."""
    return {
        "numerical_entropy": _payload("numerical_entropy", {
            "corner_dim": 10, "corner_bits": 3, "corner_cells": 1024, "corner_net": 1,
            "corner_entropy": 10.0, "shape_checks": 6, "shape_violations": 0, "shape_sets": 2,
            "rep_checks": 2, "rep_violations": 0, "rep_dim": 64},
            profile=profile, parameters={"bits": [1, 2]}),
        "precision_lower_bound": _payload("precision_lower_bound", {
            "exp1_checks": 40, "exp1_networks": 2, "exp1_violations": 0, "exp1_p_max": 8.0,
            "exp1_bound_low": 591.2, "exp1_bound_high": 2632.0, "exp1_ceiling": 8.97,
            "exp1_over_ceiling_low": 582.0, "exp1_n": 500, "suite": SUITE,
            "claim_r_above_0_9": "fails",
            "corr_unsat_verdicts": {"CNN-MNIST": "fails", "CNN-MNIST + SN": "holds"},
            "corr_unsat_r": [-0.1, 0.97], "proposal_bits": [4, 8], "proposal_gap_bits": 0.05,
            "ceiling_margin": 1.0,
            "cnn_mnist_collapse_bits": {"value": 0.5, "interval": [0.25, 0.75]},
            "cnn_mnist_sn_collapse_bits": {"value": 1.0, "interval": [0.75, 1.5]},
            "collapse_bits": [0.5, 1.0], "collapse_models": 2, "collapse_at_coarsest": 0,
            "collapse_coarsest": 0.25, "saturated_bits": [2.0]},
            profile=profile, dataset="per model", parameters={"bits": [1, 2], "n_bootstrap": 9}),
        "greedy_covering": _payload("greedy_covering", {
            "rep_dim": 64, "grid_count": 16, "cpu_count": 2, "curve_n": 30000,
            "curve_seconds": 1.4, "curve_seconds_10k": 0.26},
            profile=profile, dataset="clustered", parameters={"dim": 64}),
        "curvature_threshold": _payload("curvature_threshold", {
            "arc_kappa": 16.0, "arc_pstar": 2.0, "arc_split_bits": [0.25, 4.5],
            "claim_elbow_at_p_star": "fails",
            "elbow_verdicts": {"CNN-MNIST": "fails", "CNN-MNIST + SN": "holds"},
            "elbow_bits": [1.3, 3.5], "p_star_bits": [0.1, 2.0], "elbow_shift_bits": [0.2, 0.6],
            "claim_p_star_within_2_bits": "holds",
            "threshold_verdicts": {"CNN-MNIST": "holds", "CNN-MNIST + SN": "holds"},
            "observed_collapse_bits": [0.25, 1.0], "sensitivity_holds": 3,
            "sensitivity_count": 36,
            "cnn_mnist_p_star": {"value": 1.75, "interval": [1.6, 1.9]},
            "cnn_mnist_sn_p_star": {"value": 2.0, "interval": [1.9, 2.1]}},
            profile=profile, dataset="per model", parameters={"quantile": 0.9}),
        "lipschitz_regularization": _payload("lipschitz_regularization", {
            "claim_sn_20_40_percent_at_8_bits": "cannot be tested",
            "claim_sn_20_40_percent_moving": "fails",
            "diff8_verdicts": {"CNN-MNIST": "cannot be tested"}, "diff8_percent": [0.0, 0.0],
            "diff8_interval": [0.0, 0.0], "diff8_ceiling": 1, "diff8_count": 1,
            "moving_verdicts": {"CNN-MNIST, p = 1": "fails"}, "moving_percent": [-6.5, -6.5],
            "moving_interval": [-11.7, -0.5],
            "guideline_verdicts": {"safe threshold": "supported",
                                   "Lipschitz regularization": "mixed",
                                   "PCA before quantizing": "mixed",
                                   "monitor C_num": "supported"},
            "safe_holds": 2, "safe_fails": 0, "safe_models": 2, "lowered_pairs": 1,
            "raised_count": 1, "sn_pairs": 2, "pca_helps": 2, "pca_hurts": 1, "pca_neutral": 0,
            "monitor_rhos": [0.76, 0.77], "monitor_model": "CNN-MNIST",
            "sn_architectures": ["CNN-MNIST"], "sn_raw_ratios": [0.05],
            "sn_book_ratios": [0.8]},
            profile=profile, dataset="per model"),
        "mi_comparison": _payload("mi_comparison", {
            "claim_gap_below_2": "fails",
            "gap_verdicts": {"CNN-MNIST, p = 1": "fails", "CNN-MNIST, p = 8": "holds"},
            "fail_ratio": [0.43, 0.43], "fail_bits": [1.0, 1.0], "fail_below": 1,
            "gap_compared": 2, "below_bits": [1.0, 1.0], "below_ratio": [0.43, 0.43],
            "forced_count": 0, "forced_both_count": 0,
            "claim_gap_below_2_by_estimator": {"H(Z_q), Miller-Madow": "fails",
                                               "InfoNCE": "cannot be tested"},
            "cnum_ceiling_count": 1, "cnum_ceiling_total": 2},
            profile=profile, dataset="per model"),
    }


EXECUTION = {
    "profile": "default", "data_dir": None, "started": "2026-01-01T12:00:00+00:00",
    "written": "2026-01-01T12:10:00+00:00",
    "training_stage": {"seconds": 70.0, "skipped": [], "networks": [
        {"label": "CNN-MNIST", "data": "digits, 1,297 train / 500 test",
         "test_accuracy": 0.968, "cache_hit": False, "seconds": 2.5}]},
    "chapters": [{"name": f"0{i + 1}_{name}", "seconds": 10.0 * (i + 1), "status": "executed",
                  "profile": "default", "parameters": {}}
                 for i, name in enumerate(ledger.CHAPTERS)],
    "machine": {"platform": "Linux", "python": "3.11.7", "cpu_count": 2, "memory_gib": 23.4},
    "packages": {"numpy": "2.4.6", "helpers": "0.1.0"},
}


def _write(folder: Path, chapters: dict, execution=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in chapters.items():
        (folder / f"{name}.json").write_text(json.dumps(payload))
    if execution is not None:
        (folder / ledger.EXECUTION_FILE).write_text(json.dumps(execution))
    return folder


def _by_number(rows):
    return {row["#"]: row for row in rows}


def test_the_ledger_builds_from_a_folder_of_results_files(tmp_path):
    folder = _write(tmp_path / "results", _chapters(), EXECUTION)
    # a summary chapter's own file is not evidence, and is skipped like the execution record
    (folder / "claims_ledger.json").write_text(json.dumps({"results": {}}))
    results = ledger.load_results(folder)
    assert set(results) == set(ledger.CHAPTERS)
    rows = ledger.ledger_rows(results, ledger.load_execution(folder))
    assert [row["#"] for row in rows] == [claim.number for claim in claims.CLAIMS]
    # the hand-made files hold the experiment chapters; the appendix chapters are absent
    assert claims.registry_problems(results, ledger.load_execution(folder),
                                    skip_absent=True) == []
    assert set(rows[0]) >= set(ledger.LEDGER_COLUMNS)
    verdicts = {number: row["verdict"] for number, row in _by_number(rows).items()}
    assert verdicts == {"1a": "fails", "1b": "holds", "2": "holds", "3": "fails", "4": "fails",
                        "5": "fails", "6": "holds", "7a": "cannot be tested", "7b": "fails",
                        "8": "fails", "9": "cannot be tested", "10": "cannot be tested",
                        "11": "supported", "12": "mixed", "13": "mixed", "14": "supported"}
    row = _by_number(rows)["1a"]
    assert "1024 cells" in row["measured"] and "10.0 bits" in row["measured"]
    assert row["profile and data"] == "default: digits"
    assert _by_number(rows)["2"]["profile and data"].startswith(
        "default: digits, 1,297 train / 500 test (2 networks)")
    assert "591 to 2632 bits" in _by_number(rows)["2"]["measured"]
    # the rule, a template filled with the chapter's parameter, opens the reason
    assert _by_number(rows)["6"]["reason"].startswith("Rule: p* = ½·log2 of the q0.9 ")
    assert "fails for 1 and holds for 1" not in _by_number(rows)["4"]["measured"]
    assert "holds for 1 and fails for 1 of 2 models" in _by_number(rows)["4"]["measured"]
    # intervals are shown where the results have them
    assert "[-11.7, -0.5]" in _by_number(rows)["7b"]["measured"]
    assert "d = 64" in _by_number(rows)["9"]["reason"]
    assert "default" in _by_number(rows)["10"]["reason"]
    frame = ledger.ledger_frame(rows)
    assert list(frame.columns) == list(ledger.LEDGER_COLUMNS) and len(frame) == len(rows)
    table = ledger.ledger_markdown(rows)
    assert table.count("\n") == len(rows) + 2 and "| 1a |" in table
    # the page's table: the value in short with its interval, the detail folded under it
    assert "(95%: [-11.7, -0.5]%)" in _by_number(rows)["7b"]["measured value"]
    assert _by_number(rows)["8"]["href"] == "06_mi_comparison.html#the-gap-factor-c-mathrm-num-i"
    markup = ledger.ledger_table(rows).data
    assert markup.count("<details>") == len(rows) and markup.count("<a href=") == len(rows)
    assert all(len(row["measured value"]) <= 60 for row in rows), [
        row["measured value"] for row in rows]


def test_a_claim_whose_file_is_missing_is_not_measured(tmp_path):
    chapters = _chapters()
    del chapters["curvature_threshold"]
    rows = _by_number(ledger.ledger_rows(ledger.load_results(_write(tmp_path, chapters))))
    for number in ("3", "4", "6"):
        assert rows[number]["measured"] == ledger.NOT_MEASURED
        assert rows[number]["verdict"] == ledger.NOT_MEASURED_VERDICT
        assert "curvature_threshold.json is missing" in rows[number]["reason"]
        assert rows[number]["profile and data"] == "—"
    # no execution record: the budget is not measured either; the others still are
    assert rows["10"]["measured"] == ledger.NOT_MEASURED
    assert rows["2"]["verdict"] == "holds"


def test_a_missing_result_inside_a_file_is_not_measured_never_stale(tmp_path):
    chapters = _chapters()
    del chapters["mi_comparison"]["results"]["gap_verdicts"]
    results = ledger.load_results(_write(tmp_path, chapters))
    rows = _by_number(ledger.ledger_rows(results))
    assert rows["8"]["measured"] == ledger.NOT_MEASURED
    assert "'gap_verdicts'" in rows["8"]["reason"]
    assert claims.registry_problems(results, EXECUTION, skip_absent=True) == [
        "claim 8: mi_comparison.json has no result 'gap_verdicts'"]


def test_an_empty_results_folder_gives_a_ledger_of_unmeasured_rows(tmp_path):
    assert ledger.load_results(tmp_path / "absent") == {}
    assert ledger.load_execution(tmp_path / "absent") is None
    rows = ledger.ledger_rows(ledger.load_results(tmp_path))
    assert all(row["measured"] == ledger.NOT_MEASURED for row in rows)
    assert all(text.startswith("Not measured in this build")
               for text in ledger.findings({}).values())
    assert ledger.threshold_points({}) == []
    assert "no claim" not in ledger.verdict_summary(rows)
    assert f"{len(claims.CLAIMS)} of {len(claims.CLAIMS)} rows" in ledger.verdict_summary(rows)
    statistics = ledger.execution_rows({}, None)
    assert statistics[0]["status"] == ledger.NOT_AVAILABLE
    assert statistics[0]["profile"] == ledger.NOT_MEASURED
    assert ledger.NOT_AVAILABLE in ledger.machine_text(None)


def test_a_measured_value_outside_the_claim_is_flagged_fails(tmp_path):
    chapters = _chapters()
    curvature = chapters["curvature_threshold"]["results"]
    curvature["claim_p_star_within_2_bits"]["value"] = "fails"
    curvature["threshold_verdicts"]["value"]["CNN-MNIST"] = "fails"
    chapters["precision_lower_bound"]["results"]["exp1_violations"]["value"] = 1
    covering = chapters["greedy_covering"]["results"]
    covering["rep_dim"]["value"] = 128  # the claim's own size ...
    covering["curve_seconds_10k"]["value"] = 120.0  # ... measured far above "about 30 s"
    rows = _by_number(ledger.ledger_rows(ledger.load_results(_write(tmp_path, chapters))))
    assert rows["6"]["verdict"] == "fails"
    assert rows["2"]["verdict"] == "fails"
    assert rows["9"]["verdict"] == "fails" and "120.00 s at n = 10,000" in rows["9"]["measured"]


def test_the_budget_is_tested_only_on_a_complete_full_build(tmp_path):
    chapters = _chapters(profile="full")
    full = json.loads(json.dumps(EXECUTION))
    full["profile"] = "full"
    for entry in full["chapters"]:
        entry["profile"] = "full"
    rows = _by_number(ledger.ledger_rows(chapters, full))
    assert rows["10"]["verdict"] == "holds" and "min" in rows["10"]["measured"]
    full["training_stage"]["networks"][0]["cache_hit"] = True
    row = _by_number(ledger.ledger_rows(chapters, full))["10"]
    assert row["verdict"] == "cannot be tested" and "cache" in row["reason"]
    full["training_stage"]["networks"][0]["cache_hit"] = False
    full["training_stage"]["networks"][0]["test_accuracy"] = 0.42  # an undertrained network
    row = _by_number(ledger.ledger_rows(chapters, full))["10"]
    assert row["verdict"] == "cannot be tested" and "below 70% test accuracy" in row["reason"]
    full["training_stage"]["networks"][0]["test_accuracy"] = 0.99
    full["chapters"][0]["seconds"] = 6 * 3600.0
    assert _by_number(ledger.ledger_rows(chapters, full))["10"]["verdict"] == "fails"


def test_mixed_profiles_are_reported_and_mark_every_row(tmp_path):
    chapters = _chapters()
    chapters["curvature_threshold"] = _chapters(profile="full")["curvature_threshold"]
    results = ledger.load_results(_write(tmp_path, chapters))
    check = ledger.profile_check(results)
    assert check.mixed and check.profiles == {"default", "full"}
    assert "full: curvature_threshold" in check.message
    assert "default: greedy_covering" in check.message
    measured = [row for row in ledger.ledger_rows(results)
                if row["measured"] != ledger.NOT_MEASURED]
    assert measured and all(row["profile and data"].startswith("MIXED PROFILES")
                            for row in measured)
    assert "default and full profiles" in ledger.provenance_text(results)


def test_one_profile_passes_and_a_different_page_profile_is_reported():
    results = _chapters()
    assert ledger.profile_check(results, execution=EXECUTION).message is None
    check = ledger.profile_check(results, execution=EXECUTION, expected="smoke")
    assert not check.mixed and "'smoke'" in check.message
    other = json.loads(json.dumps(EXECUTION))
    other["profile"] = "smoke"
    assert ledger.profile_check(results, execution=other).mixed


def test_requested_parameters_and_earlier_builds_are_reported():
    results = _chapters()
    assert ledger.parameter_check(results, {"bits": None, "seed": 0}) == []
    messages = ledger.parameter_check(results, {"bits": [1, 2, 3], "n_bootstrap": 9})
    assert len(messages) == 1 and "numerical_entropy" in messages[0]
    assert "greedy_covering" not in messages[0]  # it has no bits parameter
    assert ledger.stale_results(results, EXECUTION) == []
    results["greedy_covering"]["written"] = "2025-12-31T23:00:00+00:00"
    assert ledger.stale_results(results, EXECUTION) == ["greedy_covering"]


def test_an_unreadable_results_file_gives_a_clear_error(tmp_path):
    folder = _write(tmp_path, _chapters())
    (folder / "greedy_covering.json").write_text('{"chapter": "greedy_covering", "resu')
    with pytest.raises(ledger.ResultsFileError, match="greedy_covering.json"):
        ledger.load_results(folder)
    (folder / "greedy_covering.json").write_text('["not", "an", "object"]')
    with pytest.raises(ledger.ResultsFileError, match="greedy_covering.json"):
        ledger.load_results(folder)
    (folder / "greedy_covering.json").unlink()
    (folder / ledger.EXECUTION_FILE).write_text("{")
    with pytest.raises(ledger.ResultsFileError, match="_execution.json"):
        ledger.load_execution(folder)


def test_an_unknown_verdict_in_a_results_file_is_not_read_and_is_reported():
    results = _chapters()
    results["mi_comparison"]["results"]["claim_gap_below_2"]["value"] = "probably"
    row = _by_number(ledger.ledger_rows(results))["8"]
    assert row["verdict"] == ledger.NOT_MEASURED_VERDICT
    assert "'probably'" in row["reason"] and "'verdict'" in row["reason"]
    assert any("claim_gap_below_2" in p for p in claims.registry_problems(results, EXECUTION))


def test_a_chapter_verdict_the_numbers_do_not_give_is_reported():
    results = _chapters()
    results["curvature_threshold"]["results"]["claim_elbow_at_p_star"]["value"] = "holds"
    problems = claims.registry_problems(results, EXECUTION, skip_absent=True)
    assert problems == ["claim 4: the chapter recorded 'holds' under 'claim_elbow_at_p_star', "
                        "but its recorded values give 'fails'"]
    # the ledger's verdict is the registry's, computed from the per-model verdicts
    assert _by_number(ledger.ledger_rows(results))["4"]["verdict"] == "fails"


def test_findings_and_figure_points_come_from_the_results():
    found = ledger.findings(_chapters())
    assert "p = 0.25 to 1 bits" not in found["collapse"]  # only what the files say
    assert "p = 0.5 to 1 bits" in found["collapse"] and "p = 4" in found["collapse"]
    assert "0.05 times" in found["lipschitz"] and "0.80" in found["lipschitz"]
    assert "1 of 2" in found["gap"] and "ratio 0.43" in found["gap"]
    points = ledger.threshold_points(_chapters())
    assert [p["label"] for p in points] == ["CNN-MNIST", "CNN-MNIST + SN"]
    assert points[0]["predicted_high"] == 1.9 and points[1]["observed_low"] == 0.75


def test_execution_statistics_tables_read_the_record():
    rows = ledger.execution_rows(_chapters(), EXECUTION)
    assert [row["chapter"] for row in rows] == [
        t for _, t in (*ledger.CHAPTERS.values(), *ledger.APPENDIX_CHAPTERS.values())]
    assert rows[-1]["profile"] == ledger.NOT_MEASURED  # the appendix did not run here
    assert rows[0]["run time [s]"] == "10.0" and rows[0]["status"] == "executed"
    assert rows[1]["sizes"] == "n_bootstrap = 9"
    assert ledger.training_rows(EXECUTION)[0]["weights"] == "trained"
    assert "2 CPU cores" in ledger.machine_text(EXECUTION)
    assert {"package": "numpy", "version": "2.4.6"} in ledger.package_rows(EXECUTION)
    assert ledger.provenance_rows(_chapters())[2]["data and provenance"].startswith(
        "dataset 'clustered'")


def test_the_ledger_page_links_every_chapter_a_claim_is_tested_in():
    page = (ROOT / "notebooks" / "07_claims_ledger.md").read_text()
    assert "stage: last" in page
    links = dict(re.findall(r"^- \{doc\}`([^`]+)`: (.*?)(?=^- |\n\n)", page, re.S | re.M))
    for claim in claims.CLAIMS:
        assert claim.doc in links, claim.doc
        assert re.search(rf"\b{claim.number}\b", links[claim.doc]) or (
            claim.kind == "guideline" and "guidelines" in links[claim.doc]), claim.number
        assert claim.link_target == f"../notebooks/{claim.doc}"
        assert (ROOT / "notebooks" / f"{claim.doc}.md").is_file()


def test_accuracy_curves_read_the_probe_table_in_order_of_precision():
    chapters = _chapters()
    chapters["precision_lower_bound"]["results"]["probe_table"] = {"value": {
        "model": ["A", "A", "A", "B", "B"], "bits": [None, 4.0, 1.0, 2.0, None],
        "accuracy": [0.9, 0.85, 0.4, 0.7, 0.8], "ci_low": [0.88, 0.8, 0.35, 0.65, 0.75],
        "ci_high": [0.92, 0.9, 0.45, 0.75, 0.85], "converged": [True] * 5}}
    curves = ledger.accuracy_curves(chapters)
    assert list(curves) == ["A", "B"]
    assert curves["A"]["bits"] == [1.0, 4.0] and curves["A"]["accuracy"] == [0.4, 0.85]
    assert curves["A"]["low"] == [0.35, 0.8] and curves["A"]["full"] == 0.9
    assert curves["B"]["bits"] == [2.0] and curves["B"]["full"] == 0.8
    assert ledger.accuracy_curves({}) == {}  # chapter not run: nothing, never stale values


def test_book_summary_figure_draws_curves_and_every_verdict():
    import matplotlib

    matplotlib.use("Agg")
    from helpers.book import plotting

    rows = ledger.ledger_rows(_chapters())
    curves = {"A": {"bits": [1.0, 2.0], "accuracy": [0.5, 0.9], "low": [0.4, 0.8],
                    "high": [0.6, 1.0], "full": 0.95}}
    figure = plotting.book_summary_figure(curves, rows)
    left, right = figure.axes
    assert left.get_xlabel() == plotting.BITS_LABEL and "accuracy" in left.get_ylabel()
    drawn = sum(patch.get_width() for patch in right.patches)
    assert drawn == len(rows)  # every row of the ledger is counted once
    empty = plotting.book_summary_figure({}, [])
    assert "not measured" in empty.axes[0].texts[0].get_text()


def test_verdict_summary_verbs_agree_with_their_counts():
    rows = ([{"kind": "claim", "verdict": "holds"}]
            + [{"kind": "claim", "verdict": "fails"}] * 2
            + [{"kind": "claim", "verdict": "undecided"}]
            + [{"kind": "guideline", "verdict": "undecided"}] * 2
            + [{"kind": "guideline", "verdict": "supported"}])
    text = ledger.verdict_summary(rows)
    assert "1 holds, 2 fail and 1 is undecided, of 4 claims measured" in text
    assert "2 are undecided" in text and "1 supported" in text


def test_a_partial_build_reports_only_what_its_chapters_lack():
    chapters = {"greedy_covering": _chapters()["greedy_covering"]}
    assert claims.registry_problems(chapters, None, skip_absent=True) == []
    assert any("numerical_entropy.json is missing" in problem
               for problem in claims.registry_problems(chapters, None))
    del chapters["greedy_covering"]["results"]["curve_n"]
    assert claims.registry_problems(chapters, None, skip_absent=True) == [
        "claim 9: greedy_covering.json has no result 'curve_n'"]
