"""``benchbase data ...`` through ``add_data_parser`` in a minimal parser."""

from __future__ import annotations

import argparse

import pytest
from data_builders import idx_folder, serve_folder, sha256, write

import benchbase
from benchbase import data
from benchbase.cli import data_command
from benchbase.plugins import PluginInfo, load_catalog

TOY_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


pytestmark = pytest.mark.usefixtures("isolated")


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="benchbase")
    data_command.add_data_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def toy_server(tmp_path, monkeypatch):
    """A 'toy' IDX dataset plugin whose files a local HTTP server offers."""
    served = idx_folder(tmp_path / "served")
    with serve_folder(served) as url:
        source = data.FileSource("idx", [
            data.FileSpec(name, sha256(served / name), urls=(url + name,))
            for name in TOY_FILES
        ])

        class Toy:
            @benchbase.hookimpl
            def benchbase_register_datasets(self):
                return [data.idx_dataset_spec("toy", source, description="a toy")]

        info = PluginInfo("toy", "tests", "toy-dist", "1.0")
        catalog = load_catalog(extra=[(info, Toy())])
        monkeypatch.setattr(data_command, "load_catalog", lambda: catalog)
        yield served


def _one_error_line(capsys, *fragments: str) -> None:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    for fragment in fragments:
        assert fragment in err


def test_list(toy_server, capsys):
    assert run("data", "list") == 0
    out = capsys.readouterr().out
    assert "digits          embedded" in out
    assert "mnist           not here (downloadable)" in out
    assert "toy             not here (downloadable)" in out


def test_fetch_downloads_verifies_and_decodes(toy_server, isolated, capsys):
    assert run("data", "fetch", "toy") == 0
    out = capsys.readouterr().out
    assert f"toy: verified {isolated / 'toy' / TOY_FILES[0]}" in out
    assert "toy: 12 train / 6 test images of 4×3, 3 classes" in out
    assert run("data", "list") == 0
    assert f"present (idx) in {isolated / 'toy'}" in capsys.readouterr().out


def test_fetch_offline_fails_with_one_line(toy_server, capsys):
    assert run("data", "fetch", "toy", "--offline") == 1
    _one_error_line(capsys, "benchbase data fetch: error:", "downloads are disabled")


def test_verify_all_skips_datasets_that_are_not_here(capsys):
    assert run("data", "verify") == 0
    out = capsys.readouterr().out
    assert "digits: embedded, nothing to verify" in out
    assert "mnist: files not here, skipped" in out


def test_verify_named_dataset_that_is_not_here_fails(capsys):
    assert run("data", "verify", "mnist") == 1
    _one_error_line(capsys, "files not found", "mnist")


def test_verify_reports_a_corrupt_file(tmp_path, capsys):
    for name in TOY_FILES:  # wrong content under MNIST's file names
        write(tmp_path / "mine" / "mnist" / name, b"not mnist", "gz")
    assert run("data", "verify", "--data-dir", str(tmp_path / "mine")) == 1
    out = capsys.readouterr().out
    assert "mnist: FAILED:" in out and "checksum mismatch" in out
    assert str(tmp_path / "mine" / "mnist") in out


def test_verify_an_idx_folder(tmp_path, capsys):
    folder = idx_folder(tmp_path / "mine")
    assert run("data", "verify", f"idx:{folder}") == 0
    assert "verified: 12 train / 6 test images" in capsys.readouterr().out


def test_info_lists_files_and_digests(capsys):
    assert run("data", "info", "usps") == 0
    out = capsys.readouterr().out
    assert "paper protocol: the official split" in out
    assert "zip.train.gz: not here" in out
    assert "sha256 66ebf231ab51f2cf6ac1a892d0f98ccffee1079d7a5db638c1f11f366046ca16" \
        in out
    assert "md5 ec16c51db3855ca6c91edd34d0e9b197" in out
    assert "files not here" in out


def test_info_shows_contents_when_present(toy_server, capsys):
    assert run("data", "fetch", "toy") == 0
    capsys.readouterr()
    assert run("data", "info", "toy", "--offline") == 0
    assert "train label counts: 0: 4, 1: 4, 2: 4" in capsys.readouterr().out


def test_unknown_dataset(capsys):
    assert run("data", "info", "nope") == 2  # a usage error
    _one_error_line(capsys, "unknown dataset 'nope'")
