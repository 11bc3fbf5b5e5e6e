"""``benchbase report``: tables checked against numbers computed here, figures,
self-contained HTML, Markdown links, and one clear error per bad input."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path

import pandas as pd
import pytest
from report_builders import ALGORITHMS, RECONSTRUCTING, arrays, predictions_folder
from scipy import stats

from benchbase.cli import main
from benchbase.report import build_report, read_results
from benchbase.report.headline import headline_markdown
from benchbase.report.reading import latest_trials
from benchbase.results.record import COLUMNS
from benchbase.results.store import ResultStore, read_table

# Test accuracies per seed; B's seed 3 fails.
ACCURACY = {"A": [0.90, 0.92, 0.94], "B": [0.80, 0.84, 0.82]}
FIT_SECONDS = {"A": [1.0, 2.0, 3.0], "B": [10.0, 20.0, 60.0]}
ERROR = "ValueError: boom | with a pipe"


def _row(algorithm: str, seed: int, dataset: str = "toy", **changes) -> dict:
    row = dict.fromkeys(COLUMNS, "")
    row.update(
        trial_key=f"{algorithm}-{dataset}-{seed}", algorithm=algorithm,
        family={"A": "fam-a", "B": "fam-b"}[algorithm], dataset=dataset,
        protocol="official", seed=seed, subset_hash="h", n_train=1000, n_test=200,
        # n_hidden was searched; dtype was fixed and must not be shown as chosen.
        params=json.dumps({"n_hidden": 100 * (seed + 1), "dtype": "float32"}),
        search_space=json.dumps({"n_hidden": [100, 200, 300]}), n_candidates=3,
        fit_info="{}", val_accuracy=0.5 + seed / 10, train_accuracy=0.99,
        test_accuracy=ACCURACY[algorithm][seed] if seed < 3 else None,
        fit_seconds=FIT_SECONDS[algorithm][seed] if seed < 3 else None,
        fit_cpu_seconds=2.0, predict_seconds=0.5, predict_cpu_seconds=0.5,
        select_seconds=4.0, peak_rss_mb=100.0 + seed, blas_threads=2, status="ok",
        plugin="toy-plugin 1.2", benchbase_version="0.1.0",
        started_at=f"2026-01-0{seed + 1}T10:00:00+00:00",
    )
    row.update(changes)
    return row


def _results() -> pd.DataFrame:
    rows = [_row(name, seed) for name in ("B", "A") for seed in range(3)]
    rows.append(_row("B", 3, status="error", error=ERROR))
    rows.append(_row("A", 0, dataset="other"))
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    build_report(_results(), out, ["html", "md"], "Toy report")
    return out


def _table_after(markdown: str, heading: str, skip: int = 0) -> list[dict[str, str]]:
    """Rows of the ``skip``-th Markdown table after ``heading``, unescaped."""
    lines = markdown[markdown.index(heading):].splitlines()
    tables, current = [], []
    for line in lines[1:]:
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
        if len(tables) > skip or line.startswith("#"):
            break
    else:
        tables.append(current)  # the document ended inside the table
    cells = [[re.sub(r"\\(.)", r"\1", cell.strip())
              for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in tables[skip]]
    return [dict(zip(cells[0], row, strict=True)) for row in cells[2:]]


def _pm(values: list[float]) -> str:
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def test_accuracy_table_matches_numbers_computed_here(report):
    markdown = (report / "report.md").read_text()
    rows = _table_after(markdown[markdown.index("## toy"):], "### Accuracy")
    assert [row["algorithm"] for row in rows] == ["A", "B"]  # by mean test accuracy
    by_name = {row["algorithm"]: row for row in rows}
    for name, accuracy in ACCURACY.items():
        row = by_name[name]
        best = max(range(3), key=accuracy.__getitem__)
        assert row["family"] == f"fam-{name.lower()}"
        assert row["seeds"] == "3"
        assert row["test %"].strip("*") == _pm(accuracy)
        assert row["best test % (seed)"] == f"{100 * accuracy[best]:.2f} ({best})"
        assert row["validation %"] == _pm([0.5, 0.6, 0.7])
        assert row["train %"] == "99.00 ± 0.00"
    # A − B per seed: 10, 8, 12 points; the paired t-test gives p = 0.013 (one
    # pair, nothing to adjust) and these rows keep no predictions, so the
    # t-test decides alone: A is significantly ahead, and in bold.
    assert by_name["A"]["test %"].startswith("**") and by_name["A"]["standing"] == "best"
    assert not by_name["B"]["test %"].startswith("**") and by_name["B"]["standing"] == ""
    assert by_name["B"]["failed"] == "1"


def test_runtime_table_shows_means_and_peak_memory(report):
    markdown = (report / "report.md").read_text()
    rows = _table_after(markdown[markdown.index("## toy"):], "### Runtime")
    by_name = {row["algorithm"]: row for row in rows}
    assert by_name["B"]["fit s"] == "30.0"  # mean of 10, 20, 60
    assert by_name["A"]["fit s"] == "2.000"
    assert by_name["A"]["fit CPU s"] == "2.000"
    assert by_name["A"]["select s"] == "4.000"
    assert by_name["A"]["peak RSS MiB"] == "102"  # the largest of the seeds


def test_chosen_parameters_show_only_searched_keys_for_every_seed(report):
    markdown = (report / "report.md").read_text()
    section = markdown[markdown.index("## toy"):]
    [grid_a, _] = _table_after(section, "<summary>Parameters chosen on validation</summary>")
    assert grid_a["searched grid"] == "n_hidden ∈ {100, 200, 300}"
    rows = _table_after(section, "<summary>Parameters chosen on validation</summary>", skip=1)
    chosen = {(row["algorithm"], row["seed"]): row["chosen on validation"] for row in rows}
    assert chosen == {(name, str(seed)): f"n_hidden={100 * (seed + 1)}"
                      for name in "AB" for seed in range(3)}
    assert "dtype" not in section[:section.index("## Provenance")]


def test_failed_trials_are_listed_with_their_error(report):
    markdown = (report / "report.md").read_text()
    [row] = _table_after(markdown[markdown.index("## toy"):], "### Failed trials")
    assert row == {"algorithm": "B", "seed": "3", "status": "error", "error": ERROR}
    assert "boom | with a pipe" in (report / "report.html").read_text()


def test_provenance_counts_trials_versions_and_dates(report):
    [row] = _table_after((report / "report.md").read_text(), "## Provenance")
    assert row["trials"] == "8" and row["ok"] == "7" and row["failed"] == "1"
    assert row["plugins"] == "toy-plugin 1.2" and row["benchbase"] == "0.1.0"
    assert row["BLAS threads"] == "2"
    assert row["started (UTC)"] == "2026-01-01 10:00 – 2026-01-04 10:00"


def test_html_is_self_contained_and_markdown_links_exist(report):
    page = (report / "report.html").read_text()
    # The overview; per dataset accuracy and fit seconds per seed, and where two
    # algorithms ran, their difference matrix.
    assert page.count("<svg") == 6
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page and "<link" not in page
    assert "validation split" in page  # the method is stated
    markdown = (report / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == 6
    for link in links:
        assert not Path(link).is_absolute() and "://" not in link
        assert (report / link).read_text().lstrip().startswith("<?xml")


def test_the_same_results_give_the_same_bytes(report, tmp_path):
    build_report(_results(), tmp_path, ["html", "md"], "Toy report")
    for path in [Path("report.html"), Path("report.md"),
                 *(p.relative_to(report) for p in (report / "figures").iterdir())]:
        assert (tmp_path / path).read_bytes() == (report / path).read_bytes(), path


def test_only_failed_trials_still_render_them(tmp_path):
    failed = pd.DataFrame([_row("A", 3, status="crashed", error="died")])
    written = build_report(failed, tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    assert written == [tmp_path / "report.md"]  # no figures to draw
    assert "No trial finished ok" in markdown
    assert _table_after(markdown, "### Failed trials")[0]["error"] == "died"


def _folder(path: Path, frame: pd.DataFrame) -> Path:
    path.mkdir()
    frame.to_csv(path / "results.csv", index=False)
    return path


def test_results_are_read_from_several_folders(tmp_path):
    results = _results()
    first = _folder(tmp_path / "one", results[results["dataset"] == "toy"])
    second = _folder(tmp_path / "two", results[results["dataset"] == "other"])
    both = read_results([first, second])
    assert len(both) == len(results)
    assert set(both["source"]) == {str(first), str(second)}
    assert both.loc[both["status"] != "ok", "error"].tolist() == [ERROR]
    assert (both.loc[both["status"] == "ok", "error"] == "").all()


def test_read_table_keeps_text_such_as_none(tmp_path):
    store = ResultStore(tmp_path)
    store.append(_row("A", 0, status="error", error="None", test_accuracy=None))
    table = read_table(tmp_path)
    assert table.loc[0, "error"] == "None" and pd.isna(table.loc[0, "test_accuracy"])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda tmp: tmp / "nope", FileNotFoundError, "nope: no such results folder"),
        (lambda tmp: tmp, FileNotFoundError, "no results.csv here"),
        (lambda tmp: _folder(tmp / "cols", _results().drop(columns=["test_accuracy",
                                                                      "params"])),
         ValueError, "cols/results.csv: missing column(s) params, test_accuracy"),
        (lambda tmp: _folder(tmp / "empty", _results().iloc[:0]), ValueError,
         "no trials in"),
    ],
    ids=["missing-folder", "no-table", "missing-columns", "no-rows"],
)
def test_bad_results_folders_are_refused_by_path(tmp_path, make, error, message):
    folder = make(tmp_path)
    with pytest.raises(error, match=re.escape(message)) as caught:
        read_results([folder])
    assert str(folder) in str(caught.value)


def test_a_trial_in_two_folders_would_count_twice_and_is_refused(tmp_path):
    folder = _folder(tmp_path / "res", _results())
    with pytest.raises(ValueError, match=r"more than one folder.*pass each results folder"
                       ) as caught:
        read_results([folder, folder])
    assert str(folder) in str(caught.value)


def test_a_trial_run_again_into_another_folder_replaces_the_older_row(tmp_path):
    # The same trial key started later in another folder (the same trial on
    # newer code or another machine) is a rerun, not a copy: the later row is
    # compared and the earlier one named.
    results = _results()
    again = results[(results["algorithm"] == "B") & (results["seed"] == 2)].assign(
        test_accuracy=0.5, started_at="2026-03-01T10:00:00+00:00")
    folders = [_folder(tmp_path / "one", results), _folder(tmp_path / "two", again)]
    read = read_results(folders)
    latest, superseded = latest_trials(read)
    assert len(latest) == len(results) and len(superseded) == 1
    assert superseded["source"].iloc[0] == str(tmp_path / "one")
    assert latest.loc[(latest["algorithm"] == "B") & (latest["seed"] == 2),
                      "test_accuracy"].tolist() == [0.5]


def test_a_trial_measured_again_under_a_new_key_replaces_the_older_row(tmp_path):
    # A's seed 1 rerun (new code, a new trial key) in a second folder, and an
    # even older attempt listed after it: the latest by start time is compared.
    results = _results()
    rerun = _row("A", 1, trial_key="A-toy-1-rerun", test_accuracy=0.99,
                 started_at="2026-02-01T10:00:00+00:00")
    older = _row("A", 1, trial_key="A-toy-1-older", test_accuracy=0.10,
                 started_at="2025-12-31T10:00:00+00:00")
    folders = [_folder(tmp_path / "one", results),
               _folder(tmp_path / "two", pd.DataFrame([rerun, older]))]
    build_report(read_results(folders), tmp_path / "report", ["md"])
    markdown = (tmp_path / "report" / "report.md").read_text()
    by_name = {row["algorithm"]: row for row in
               _table_after(markdown[markdown.index("## toy"):], "### Accuracy")}
    assert by_name["A"]["seeds"] == "3"
    assert by_name["A"]["test %"].strip("*") == _pm([0.90, 0.99, 0.94])
    assert ("2 trial(s) were measured again (under a new trial key, or in another "
            "folder) (A on toy (official, "
            "seed 1) started 2026-01-02 10:00, rerun 2026-02-01 10:00; A on toy (official, "
            "seed 1) started 2025-12-31 10:00, rerun 2026-02-01 10:00)") in markdown
    assert _pm([0.90, 0.99, 0.94]) in headline_markdown(read_results(folders))


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        build_report(_results(), tmp_path, ["html", "pdf"])


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["nope"], 2, "nope: no such results folder"),
        (["RES", "--format", "pdf"], 2, "--format: unknown report format 'pdf'"),
    ],
)
def test_cli_errors_are_one_clear_line(tmp_path, capsys, argv, code, message):
    _folder(tmp_path / "RES", _results())
    argv = [str(tmp_path / arg) if arg in ("nope", "RES") else arg for arg in argv]
    assert main(["report", *argv, "--out", str(tmp_path / "out")]) == code
    err = capsys.readouterr().err.strip()
    assert err.startswith("benchbase: error:") and message in err
    assert len(err.splitlines()) == 1


def test_run_then_report_through_the_command_line(tmp_path, capsys):
    results, out = tmp_path / "results", tmp_path / "report"
    assert main(["run", "--algorithms", "ELM", "--datasets", "digits", "--seeds", "2",
                 "--executor", "inline", "--param", "ELM:n_hidden=200",
                 "--out", str(results)]) == 0
    capsys.readouterr()
    assert main(["report", str(results), "--out", str(out), "--title", "Digits"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed[:2] == [str(out / "report.html"), str(out / "report.md")]
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("# Digits\n")
    [row] = _table_after(markdown, "### Accuracy")
    assert row["algorithm"] == "ELM" and row["seeds"] == "2"
    assert row["validation %"] == "—"  # n_hidden was fixed: nothing was chosen
    assert all(Path(path).exists() for path in printed)


def test_a_lead_within_the_noise_is_not_bold_and_the_tied_group_is_marked(tmp_path):
    # Seeds disagree: A − B is +4, −2, +1 points: no test can find a difference.
    accuracies = {"A": [0.90, 0.88, 0.91], "B": [0.86, 0.90, 0.90]}
    rows = [_row(name, seed, test_accuracy=accuracies[name][seed])
            for name in "AB" for seed in range(3)]
    build_report(pd.DataFrame(rows), tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    table = _table_after(markdown, "### Accuracy")
    assert [row["standing"] for row in table] == ["highest mean", "not separated from it"]
    assert not any(row["test %"].startswith("**") for row in table)
    assert "Nothing is bold" in markdown
    assert "p-value cannot go below 0.25 with 3 seeds" in markdown


def test_seeds_with_different_subsets_are_not_paired(tmp_path):
    rows = [_row(name, seed) for name in "AB" for seed in range(3)]
    rows[3]["subset_hash"] = "another"  # B's seed 0 saw other data than A's
    build_report(pd.DataFrame(rows), tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    [pair] = _table_after(markdown, "Across seeds:")
    assert pair["seeds"] == "2"
    assert "seed(s) 0 left out: different subsets" in markdown


@pytest.fixture(scope="module")
def predictions_report(tmp_path_factory) -> tuple[Path, Path]:
    """A report of trials that kept their predictions (report_builders)."""
    root = tmp_path_factory.mktemp("predictions")
    folder = predictions_folder(root / "results")
    build_report(read_results([folder]), root / "report", ["html", "md"], "Predictions")
    return folder, root / "report"


def _correct(algorithm: str, seed: int):
    found = arrays(algorithm, seed)
    return found["y_pred"] == found["y_test"]


def test_paired_numbers_are_scipys_on_the_stored_predictions(predictions_report):
    _, report = predictions_report
    markdown = (report / "report.md").read_text()
    seeds_rows = {row["pair"]: row for row in _table_after(markdown, "Across seeds:")}
    example_rows = {row["pair"]: row for row in
                    _table_after(markdown, "Across test examples (first")}
    assert set(seeds_rows) == {"Good − Fair", "Good − Weak", "Fair − Weak"}
    for pair in seeds_rows:
        a, b = pair.split(" − ")
        acc_a = [100 * _correct(a, seed).mean() for seed in range(3)]
        acc_b = [100 * _correct(b, seed).mean() for seed in range(3)]
        t_test = stats.ttest_rel(acc_a, acc_b)
        low, high = t_test.confidence_interval(0.95)
        assert seeds_rows[pair]["Δ test points"] == f"{sum(acc_a) / 3 - sum(acc_b) / 3:+.2f}"
        assert seeds_rows[pair]["95 % CI (t)"] == f"[{low:+.2f}, {high:+.2f}]"
        assert seeds_rows[pair]["p (t-test)"] == f"{t_test.pvalue:.3g}"
        # One shared test set: per example, seeds right for a minus for b.
        summed = sum(_correct(a, seed).astype(int) - _correct(b, seed) for seed in range(3))
        ahead, behind = int((summed > 0).sum()), int((summed < 0).sum())
        assert example_rows[pair]["first ahead"] == str(ahead)
        assert example_rows[pair]["second ahead"] == str(behind)
        pooled = stats.binomtest(ahead, ahead + behind).pvalue
        assert example_rows[pair]["pooled p"] in (f"{pooled:.3g}", "< 0.001")
        per_seed = [stats.binomtest(int((_correct(a, s) & ~_correct(b, s)).sum()),
                                    int((_correct(a, s) ^ _correct(b, s)).sum())).pvalue
                    for s in range(3)]
        assert example_rows[pair]["McNemar p per seed"] == ", ".join(
            "< 0.001" if p < 0.001 else f"{p:.3g}" for p in per_seed)
    assert "The seeds share one test set" in markdown


def test_every_figure_a_reader_expects_is_there(predictions_report):
    _, report = predictions_report
    names = {path.stem for path in (report / "figures").iterdir()}
    assert {"toy-official-differences", "toy-official-per-class", "toy-official-confusion",
            "toy-official-reconstruction-filters",
            "toy-official-reconstruction-reconstructions"} <= names
    assert {f"toy-official-validation-{name.lower()}" for name in ALGORITHMS} <= names
    markdown = (report / "report.md").read_text()
    # Weak searched three parameters: its map folds the one with the fewest values.
    assert "Max-projection: each cell is the best score over c." in markdown
    assert "Confusion matrices of the best and the worst algorithm" in markdown


def test_reconstruction_section_comes_from_the_autoencoder_plugin(predictions_report):
    _, report = predictions_report
    markdown = (report / "report.md").read_text()
    section = markdown[markdown.index("<summary>Layer-1 filters and reconstructions</summary>"):]
    rows = {row["algorithm"]: row for row in _table_after(section, "Reconstruction error")}
    assert set(rows) == set(RECONSTRUCTING)
    # recon_error_kl is 1.5 + seed: mean 2.5, std 1 over seeds 0, 1, 2.
    assert rows["Fair"]["KL nats per image"] == "2.50 ± 1.00"
    assert rows["Weak"]["squared error per pixel"] == "0.02000 ± 0.01000"
    assert "seed 0" in section


def test_reports_with_artifacts_give_the_same_bytes(predictions_report, tmp_path):
    folder, report = predictions_report
    build_report(read_results([folder]), tmp_path, ["html", "md"], "Predictions")
    assert (tmp_path / "report.html").read_bytes() == (report / "report.html").read_bytes()
    for path in (report / "figures").iterdir():
        assert (tmp_path / "figures" / path.name).read_bytes() == path.read_bytes(), path


#: USPS rows of the first paper-tables run (2026-11-28), made before trials
#: kept artifacts or provenance.
BEFORE_ARTIFACTS = Path(__file__).resolve().parent / "reference" / "results-before-artifacts"


def test_an_old_folder_without_artifacts_still_reports_and_says_what_is_missing(tmp_path):
    build_report(read_results([BEFORE_ARTIFACTS]), tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    assert "21 of 21 trials record no artifacts" in markdown
    assert "No per-class view" in markdown and "No validation-score maps" in markdown
    assert "The rows record no machine or software details" in markdown
    # The paper's Table 3.1 is shown beside ours (benchbase_datasets' references).
    assert "Table 3.1" in markdown


def _environment(**changes) -> str:
    environment = {"host": "box", "cpu": "Toy CPU", "cpu_count": 2, "usable_cores": 2,
                   "memory_gib": 8.0, "os": "Linux", "python": "CPython 3.11",
                   "packages": {"numpy": "2.0"}, "blas": [], "gpu": "", "git_commit": "abc"}
    return json.dumps({**environment, **changes})


def test_a_report_mixing_machines_software_and_concurrency_says_so(tmp_path):
    rows = [_row(name, seed, environment=_environment()) for name in "AB" for seed in range(3)]
    rows[0]["environment"] = _environment(host="other", cpu="Other CPU")
    rows[1]["environment"] = _environment(packages={"numpy": "1.26"})
    frame = pd.DataFrame(rows).assign(threads=1, concurrency=[1, 1, 1, 2, 2, 1],
                                      executor="process")
    build_report(frame, tmp_path, ["md"])
    markdown = (tmp_path / "report.md").read_text()
    top = markdown[:markdown.index("## toy")]
    assert "more than one machine (host: box, other; CPU: Other CPU, Toy CPU)" in top
    assert "The software differs between trials (numpy: 1.26, 2.0)" in top
    assert "2 trial(s) ran while other trials ran at the same time (up to 2 at once; " \
        "executor process)" in top
    environments = _table_after(markdown, "### Machines and software")
    assert len(environments[0]) == 1 + 3  # the field names, then three environments


def test_a_report_says_which_trials_other_work_crowded(tmp_path):
    rows = [_row(name, seed) for name in "AB" for seed in range(3)]
    frame = pd.DataFrame(rows).assign(
        threads=1, concurrency=[1, 1, 1, 2, 2, 1],
        select_other_cpus=[0.05, 0.9, None, 1.0, 0.1, 0.0],
        fit_other_cpus=[0.1, 0.0, 1.3, 1.0, 1.7, None])
    build_report(frame, tmp_path, ["md"])
    top = (tmp_path / "report.md").read_text().split("## toy")[0]
    # Rows 1, 2 (alone, 0.9 and 1.3 CPUs busy elsewhere) and 4 (1.7: more than
    # its one sibling trial's single thread) were crowded; row 3 was not.
    assert "3 trial(s) ran while other work kept the host busy" in top
    assert "up to 1.7 CPUs busy with other processes" in top


def test_a_quiet_host_brings_no_crowding_notice(tmp_path):
    rows = [_row(name, seed) for name in "AB" for seed in range(3)]
    frame = pd.DataFrame(rows).assign(threads=2, concurrency=1,
                                      select_other_cpus=0.2, fit_other_cpus=0.05)
    build_report(frame, tmp_path, ["md"])
    assert "other work kept the host busy" not in (tmp_path / "report.md").read_text()


@pytest.mark.parametrize(("seconds", "labels"), [
    ([3.1, 4.2], ["2", "5"]),  # less than a decade: 1-2-5 ticks, no minor labels
    ([0.06, 0.4, 4.0], ["0.05", "0.1", "0.2", "0.5", "1", "2", "5"]),  # two decades
    ([0.05, 30.0, 900.0], ["0.1", "1", "10", "100", "1000"]),  # more: decades only
    # Limits one ulp off matplotlib's own 5e-05 once made it swap in linear
    # ticks, 2e-05 to 5e-05 by 5e-06, and their labels collided.
    ([3e-5], ["2e-05", "5e-05"]),
    ([4e-4], ["0.0002", "0.0005"]),
    ([1e-6, 1e6], ["1e-06", "0.0001", "0.01", "1", "100", "10000", "1e+06"]),  # thinned
])
def test_log_axes_label_ticks_that_cannot_collide(seconds, labels):
    from matplotlib.ticker import NullFormatter

    from benchbase.report.figures import log_axis, new_figure

    figure, axes = new_figure(4, 3)
    ax = axes[0, 0]
    ax.scatter(seconds, range(len(seconds)))
    log_axis(ax, seconds)
    figure.canvas.draw()
    low, high = ax.get_xlim()
    shown = [tick.get_text() for tick, value in
             zip(ax.get_xticklabels(), ax.get_xticks(), strict=True) if low <= value <= high]
    assert shown == labels
    assert isinstance(ax.xaxis.get_minor_formatter(), NullFormatter)
    assert low <= min(seconds) and max(seconds) <= high


def test_cost_legend_lists_each_algorithm_once_under_its_family():
    from benchbase.report.figures import algorithm_styles, cost_figure
    from benchbase.results.summary import summarize

    results = _results().assign(family=lambda frame: frame["algorithm"].map(
        {"A": "A", "B": "fam-b"}))  # an algorithm named like its family
    figure = cost_figure(summarize(results), algorithm_styles({"A": "A", "B": "fam-b"}))
    [legend] = figure.legends
    assert [text.get_text() for text in legend.get_texts()] == [
        "A family", "A", "fam-b family", "B"]


def test_every_algorithm_has_its_own_colour_and_marker_its_family_a_hue():
    from benchbase.report.figures import algorithm_styles

    family_of = {"AE": "AE", "SAE": "AE", "DAE": "AE", "DDAE": "AE", "ELM": "ELM",
                 "RELM": "ELM", "KELM": "ELM", "ELM-AE": "ELM", "ML-ELM": "ELM",
                 "H-ELM": "ELM"}
    styles = algorithm_styles(family_of)
    assert len({style.colour for style in styles.values()}) == len(family_of)
    assert len({style.marker for style in styles.values()}) == len(family_of)
    # One hue per family: the AE family's shades are bluer than they are red,
    # the ELM family's redder than blue.
    for name, family in family_of.items():
        red, _, blue = styles[name].colour
        assert (blue > red) == (family == "AE"), name
