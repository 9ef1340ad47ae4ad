"""The fixtures (tests/fixtures) hold the reference's figures: regenerated from the corpus they equal the committed
files, and written back as a reference-shaped directory they read back as themselves."""

import shutil

import fixtures
from conftest import REFERENCE, corpus
from fixtures import build


@corpus
def test_fixtures_are_what_the_corpus_gives():
    assert build.stale(REFERENCE) == [], "regenerate with: python -m tests.fixtures"


@corpus
def test_a_changed_fixture_is_reported(tmp_path):
    copy = tmp_path / "fixtures"
    shutil.copytree(fixtures.FIXTURES, copy)
    table = copy / "results.json"
    table.write_text(table.read_text().replace("24.5128535296", "24.5128535297", 1))
    assert build.stale(REFERENCE, copy) == ["results.json"]


def test_materialized_fixtures_read_back_as_the_fixtures(fixture_reference):
    for name, text in build.collect(fixture_reference).items():
        assert text == (fixtures.FIXTURES / name).read_text(), name


def test_the_fixtures_are_json_figures_only():
    from analysis.artifact_fixture import ARTIFACT_RESULTS

    files = {p.name for p in fixtures.FIXTURES.iterdir() if p.is_file()}
    # the artifact's result tables of every network are written by analysis.artifact_fixture (from the artifact)
    assert {name for name in files if not name.endswith(".py")} == set(build.COLLECTORS) | {ARTIFACT_RESULTS.name}
    assert len(fixtures.run_names()) == 109


def test_build_without_reference_data(tmp_path, capsys):
    assert build.main(["--reference", str(tmp_path), "--check"]) == 2
    assert f"{tmp_path}: no reference data (networks.yaml)" in capsys.readouterr().err
