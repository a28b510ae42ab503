"""Every ```python block of README.md and docs/**/*.md runs, so the docs cannot rot.

Each block is a test case named ``<page>:<line of its fence>``. The blocks of one page
continue each other (a name defined in one is used in the next), so they run in order in
one namespace per page, in a temporary working directory. A case selected alone
(``-k 'user-guide.md:125'``) first runs the blocks above it on its page.

No block reaches a network. The examples name the layers users have (``gs://bucket/...``,
``s3://...``, ``file:///data/...``); here they are **stand-ins**: drivers registered for
``gs``, ``s3`` and ``file`` with ``replace=True``, as a third-party plugin would register
them, keep ``gs://B/P`` and ``s3://B/P`` in the page's directory and map ``file:///data/``
and ``file:///tmp/ds/`` into it (other local paths are untouched). Each page's
``_setup_*`` function makes the small layers its examples open, at those paths; the BOSS
page runs against the stand-in BOSS server of ``tests/boss_server.py`` on 127.0.0.1.

A block the harness cannot run is marked in the Markdown by the line right before its
fence, ``<!-- no-run: why -->``; :data:`EXCLUDED` counts them, so a new one cannot slip in
unnoticed. ``>>>`` blocks run as doctests. The plugin guide's ``DictStore`` and
``ZlibRawCodec`` also run the store and codec contracts, with the guide's own test classes.
"""

from __future__ import annotations

import contextlib
import doctest
import json
import logging
import os
import re
import shutil
import tempfile
import textwrap
from dataclasses import dataclass, field
from multiprocessing import shared_memory
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pytest

from precomputed_core import Bbox, CloudVolume, Mesh, Skeleton
from precomputed_core.plugins import hookimpl, refresh_plugins, register
from precomputed_drivers.local import LocalStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: Blocks marked ``<!-- no-run: ... -->``, by id. Adding one means changing this list.
EXCLUDED = {"docs/dask.md:206": "starts a Dask cluster of 8 worker processes"}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<info>[^`]*)$")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run:\s*(?P<reason>.*?)\s*-->\s*$")


# --- collecting the blocks -------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: str  # relative to the repository, as in ids
    line: int  # the fence's line, 1-based
    code: str
    no_run: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_doctest(self) -> bool:
        return self.code.lstrip().startswith(">>>")

    def compiled(self) -> Any:
        # Padded so that tracebacks give the Markdown file's own line numbers and text.
        return compile("\n" * self.line + self.code, str(ROOT / self.page), "exec")


def read_blocks(path: Path, page: str | None = None) -> list[Block]:
    """The fenced blocks of one Markdown file whose info string starts with ``python``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = page or path.relative_to(ROOT).as_posix()
    blocks, i = [], 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence:
            end += 1
        assert end < len(lines), f"{page}:{i + 1}: the code fence is never closed"
        language = (opening["info"].split() or [""])[0]
        if language == "python":
            body = [line[len(indent) :] if line.startswith(indent) else line for line in lines[i + 1 : end]]
            marker = _NO_RUN.match(lines[i - 1]) if i > 0 else None
            reason = marker["reason"] if marker else None
            blocks.append(Block(page, i + 1, textwrap.dedent("\n".join(body)) + "\n", reason))
        i = end + 1
    return blocks


ALL_BLOCKS = [block for path in DOCS for block in read_blocks(path)]
BLOCKS = [block for block in ALL_BLOCKS if block.no_run is None]


def test_the_docs_have_python_examples():
    pages = {block.page for block in ALL_BLOCKS}
    assert {"README.md", "docs/user-guide.md", "docs/plugins.md"} <= pages
    assert len(ALL_BLOCKS) >= 30


def test_excluded_blocks_are_few_and_explained():
    excluded = {block.id: block.no_run for block in ALL_BLOCKS if block.no_run is not None}
    assert excluded == EXCLUDED, "each <!-- no-run: why --> block must be listed in EXCLUDED"
    assert all(reason for reason in excluded.values())


def test_the_harness_reads_fences_markers_and_doctests(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        'Text.\n\n```python\nx = 1\n```\n\n- a list item:\n\n  ```python title="b.py"\n  y = x + 1\n  ```\n\n'
        "```bash\nls\n```\n\n<!-- no-run: needs a bucket -->\n```python\nraise SystemExit\n```\n\n"
        "```python\n>>> y * 2\n4\n```\n\n```python\n>>> y\n5\n```\n"
    )
    blocks = read_blocks(page, "page.md")
    assert [(b.line, b.no_run, b.is_doctest) for b in blocks] == [
        (3, None, False), (9, None, False), (18, "needs a bucket", False), (22, None, True), (27, None, True),
    ]  # fmt: skip
    assert blocks[1].code == "y = x + 1\n"
    namespace: dict[str, Any] = {}
    for block in blocks[:2]:
        run_block(block, namespace)
    run_block(blocks[3], namespace)
    with pytest.raises(pytest.fail.Exception, match="Expected:\n    5\nGot:\n    2"):
        run_block(blocks[4], namespace)


# --- stand-in storage ------------------------------------------------------------------

#: Local paths of the examples that are kept in the page's directory.
MAPPED_LOCAL = ("/data/", "/tmp/ds/")


class StandInStore(LocalStore):
    """A layer of ``gs://``, ``s3://`` or a mapped local path, kept under the page's directory."""

    root: ClassVar[Path | None] = None

    @classmethod
    def from_cloudpath(cls, path: Any, **options: Any) -> StandInStore:
        assert cls.root is not None, "stand-in storage used outside a docs example"
        if path.protocol == "file":
            local = path.local_path
            if any((local + "/").startswith(prefix) for prefix in MAPPED_LOCAL):
                local = str(cls.root / "file" / local.lstrip("/"))
            return cls(local)
        return cls(cls.root / path.protocol / path.bucket / path.path)

    @property
    def shared_between_processes(self) -> bool:
        # Another process would open the real drivers: ``parallel`` stays on threads.
        return False


class _StandInPlugin:
    @hookimpl
    def precomputed_register_drivers(self, registry: Any) -> None:
        for protocol in ("file", "gs", "s3"):
            registry.add(protocol, f"{__name__}:StandInStore", replace=True)


# --- the layers the examples open ------------------------------------------------------


SEGMENTATION = {"data_type": "uint64", "layer_type": "segmentation"}


def _pattern(shape: tuple[int, ...], dtype: str, labels: bool) -> np.ndarray:
    """Smooth voxels for images; blocky labels (0, 12 and 40 among them) for segmentation."""
    x, y, z = (np.arange(n, dtype=np.uint32) for n in shape)
    total = x[:, None, None] + y[None, :, None] + z[None, None, :]
    values = (total // 8) % 64 if labels else total % 251
    return np.asfortranarray(values.astype(dtype))


def make_layer(
    url: str,
    *,
    data_type: str = "uint8",
    layer_type: str = "image",
    size: tuple[int, int, int] = (128, 128, 64),
    chunk: tuple[int, int, int] = (64, 64, 64),
    encoding: str = "raw",
    mips: int = 1,
    region: tuple[tuple[int, int, int], tuple[int, int, int]] | None = None,
    **extra: Any,
) -> CloudVolume:
    """A layer with voxels in ``region`` (default: everywhere) at each of its ``mips``."""
    info = CloudVolume.create_new_info(
        1, layer_type, data_type, encoding, [4, 4, 40], [0, 0, 0], list(size),
        chunk_size=list(chunk), max_mip=mips - 1, **extra,
    )  # fmt: skip
    vol = CloudVolume(url, info=info, progress=False)
    vol.commit_info()
    for mip in range(mips):
        box = vol.mip_bounds(mip)
        if region is not None:  # in mip-0 voxels; the scales are 2x2x1 apart
            factor = np.array([2**mip, 2**mip, 1])
            box = Bbox(np.array(region[0]) // factor, np.minimum(np.array(region[1]) // factor, box.maxpt))
        vol.mip = mip
        vol[box] = _pattern(tuple(int(n) for n in box.size3()), data_type, layer_type == "segmentation")
    vol.mip = 0
    return vol


def _tetrahedron(segid: int) -> Mesh:
    vertices = np.array([[0, 0, 0], [400, 0, 0], [0, 400, 0], [0, 0, 400]], np.float32) + 40 * segid % 1000
    faces = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]], np.uint32)
    return Mesh(vertices, faces, segid=segid)


def _skeleton(segid: int) -> Skeleton:
    vertices = np.array([[0, 0, 0], [100, 0, 0], [200, 50, 0], [200, 150, 40], [300, 0, 80]], np.float32)
    edges = np.array([[0, 1], [1, 2], [2, 3], [2, 4]], np.uint32)
    radii = np.array([5, 4, 4, 3, 2], np.float32)
    types = np.array([1, 3, 3, 3, 3], np.uint8)
    return Skeleton(vertices + segid, edges, radii=radii, vertex_types=types, segid=segid, space="physical")


def _setup_readme(page: Page) -> None:
    make_layer("file:///data/mouse/image").close()


def _setup_user_guide(page: Page) -> None:
    make_layer("file:///data/mouse/image", size=(512, 512, 64), mips=3).close()


def _setup_cache(page: Page) -> None:
    make_layer("gs://mybucket/retina/image", size=(512, 512, 64), mips=2).close()


def _setup_dask(page: Page) -> None:
    corner = ((0, 0, 0), (256, 256, 64))  # the rest of the layer has no chunks
    make_layer("gs://bucket/dataset/image", size=(1024, 1024, 64), mips=3, region=corner).close()
    make_layer("gs://bucket/dataset/seg", size=(256, 256, 64), **SEGMENTATION).close()
    make_layer("gs://bucket/dataset/em", size=(256, 256, 64)).close()


def _setup_meshes(page: Page) -> None:
    ids = (1, 2, 12, 34, 56, 12345)
    with make_layer("gs://bucket/dataset/segmentation", mesh="mesh", **SEGMENTATION) as vol:
        vol.mesh.put([_tetrahedron(segid) for segid in ids])  # legacy meshes
    with make_layer("gs://bucket/dataset/seg-draco", mesh="mesh", **SEGMENTATION) as vol:
        vol.mesh.meta.to_multi_resolution()
        vol.mesh.meta.commit_info()
        vol.mesh.put({segid: [_tetrahedron(segid)] * 3 for segid in ids})  # three levels of detail
    make_layer("gs://bucket/dataset/new-seg", mesh="mesh", **SEGMENTATION).close()


def _setup_skeletons(page: Page) -> None:
    with make_layer("gs://bucket/dataset/segmentation", skeletons="skeletons", **SEGMENTATION) as vol:
        vol.skeleton.upload([_skeleton(segid) for segid in (1, 2, 3, 12345)])


def _setup_sharding(page: Page) -> None:
    seg = {**SEGMENTATION, "encoding": "compressed_segmentation"}
    read_here = ((896, 1920, 256), (1152, 2176, 384))  # the chunks the example's cutout needs
    make_layer("gs://bucket/dataset/segmentation", size=(2048, 2304, 384), chunk=(128, 128, 64), sharding=True,
               region=read_here, **seg).close()  # fmt: skip
    small_shards = {
        "@type": "neuroglancer_uint64_sharded_v1", "preshift_bits": 3, "hash": "identity",
        "minishard_bits": 0, "shard_bits": 3, "minishard_index_encoding": "gzip", "data_encoding": "gzip",
    }  # fmt: skip
    make_layer("s3://bucket/labels", size=(256, 256, 128), sharding=small_shards, **seg).close()


def _setup_parallel(page: Page) -> None:
    make_layer("file:///data/ds/seg", size=(512, 512, 64), **{**SEGMENTATION, "data_type": "uint16"}).close()
    # What "another process" of the example wrote: (512, 512, 64) voxels in Fortran order.
    array = _pattern((512, 512, 64), "uint16", labels=True)
    _remove_segment("their-array")  # left by an interrupted run
    segment = shared_memory.SharedMemory(name="their-array", create=True, size=array.nbytes)
    np.ndarray(array.shape, array.dtype, buffer=segment.buf, order="F")[...] = array
    page.cleanups.append(lambda: (segment.close(), segment.unlink()))
    page.cleanups.append(lambda: _remove_segment("my-cutout"))  # the example unlinks it, unless it failed


def _remove_segment(name: str) -> None:
    try:
        segment = shared_memory.SharedMemory(name=name)
    except FileNotFoundError:
        return
    segment.close()
    segment.unlink()


def _setup_boss(page: Page) -> None:
    from boss_server import FakeBoss

    server = FakeBoss(token="docs-token")
    server.__enter__()
    page.cleanups.append(lambda: server.__exit__(None, None, None))
    server.add_frame("frame", start=(0, 0, 0), stop=(8192, 8192, 256), voxel_size=(4, 4, 40))
    server.add_experiment("my_collection", "my_experiment", frame="frame", levels=2)
    server.add_channel("my_collection", "my_experiment", "em", datatype="uint8")
    secrets = Path(os.environ["CLOUD_VOLUME_DIR"]) / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "boss-secret.json").write_text(json.dumps(server.config))


SETUPS: dict[str, Callable[[Page], None]] = {
    "README.md": _setup_readme,
    "docs/user-guide.md": _setup_user_guide,
    "docs/cache.md": _setup_cache,
    "docs/dask.md": _setup_dask,
    "docs/meshes.md": _setup_meshes,
    "docs/skeletons.md": _setup_skeletons,
    "docs/sharding.md": _setup_sharding,
    "docs/parallel.md": _setup_parallel,
    "docs/boss.md": _setup_boss,
}


# --- running a page --------------------------------------------------------------------


@dataclass
class Page:
    """One page's namespace, directory and progress through its blocks."""

    name: str
    directory: Path
    blocks: list[Block]
    namespace: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    failed: str | None = None
    set_up: bool = False
    cleanups: list[Callable[[], Any]] = field(default_factory=list)

    def enter(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """This test's environment: the page's working directory, home and stand-in drivers."""
        work, home = self.directory / "work", self.directory / "home"
        work.mkdir(parents=True, exist_ok=True)
        monkeypatch.chdir(work)
        monkeypatch.setenv("HOME", str(home))
        monkeypatch.setenv("CLOUD_VOLUME_DIR", str(home / ".cloudvolume"))
        monkeypatch.delenv("CLOUD_VOLUME_CACHE_DIR", raising=False)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(name, "127.0.0.1,localhost")
        monkeypatch.setattr(StandInStore, "root", self.directory / "storage")
        (self.directory / "tmp").mkdir(exist_ok=True)
        monkeypatch.setattr(tempfile, "tempdir", str(self.directory / "tmp"))  # tempfile.gettempdir()
        register(_StandInPlugin(), name="docs-stand-ins")
        if not self.set_up:
            self.set_up = True
            try:
                SETUPS.get(self.name, lambda page: None)(self)
            except BaseException:
                self.failed = f"the setup of {self.name}"
                raise

    def run_through(self, block: Block) -> None:
        """Run the blocks before ``block`` (if a case was selected alone), then ``block``."""
        index = self.blocks.index(block)
        if self.failed is not None:
            pytest.fail(f"not run: {self.failed} failed, and this block continues it", pytrace=False)
        while self.done <= index:
            current = self.blocks[self.done]
            self.done += 1
            try:
                run_block(current, self.namespace)
            except BaseException:
                self.failed = current.id
                raise

    def close(self) -> None:
        for value in self.namespace.values():
            if isinstance(value, CloudVolume):
                value.close()
        self.namespace.clear()
        for cleanup in reversed(self.cleanups):
            cleanup()
        self.cleanups.clear()
        shutil.rmtree(self.directory, ignore_errors=True)


def run_block(block: Block, namespace: dict[str, Any]) -> None:
    if not block.is_doctest:
        exec(block.compiled(), namespace)
        return
    where = str(ROOT / block.page)
    test = doctest.DocTestParser().get_doctest(block.code, namespace, block.id, where, block.line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    if runner.failures:
        pytest.fail("".join(report), pytrace=False)


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """Undo what an example does to logging (docs/logging.md turns levels and handlers on)."""
    loggers = [logging.getLogger(), *(
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    )]  # fmt: skip
    levels = {logger: logger.level for logger in loggers}
    handlers = list(logging.getLogger().handlers)
    try:
        yield
    finally:
        for logger in logging.Logger.manager.loggerDict.values():
            if isinstance(logger, logging.Logger):
                logger.setLevel(levels.get(logger, logging.NOTSET))
        logging.getLogger().setLevel(levels[logging.getLogger()])
        logging.getLogger().handlers[:] = handlers


@pytest.fixture(scope="module")
def pages() -> Iterator[dict[str, Page]]:
    opened: dict[str, Page] = {}
    yield opened
    for page in opened.values():
        page.close()


@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_docs_example(block: Block, pages: dict[str, Page], tmp_path_factory, monkeypatch):
    page = pages.get(block.page)
    if page is None:
        directory = tmp_path_factory.mktemp(re.sub(r"\W", "-", block.page))
        page = pages[block.page] = Page(block.page, directory, [b for b in BLOCKS if b.page == block.page])
    try:
        with _logging_kept():
            page.enter(monkeypatch)
            page.run_through(block)
    finally:
        refresh_plugins()  # the stand-ins leave with this test
    if block is page.blocks[-1]:
        page.close()


# --- the plugin guide's store and codec pass the contracts -----------------------------


def _plugin_guide() -> dict[str, Any]:
    """The namespace of docs/plugins.md's blocks, run in order."""
    namespace: dict[str, Any] = {"__name__": __name__}
    for block in ALL_BLOCKS:
        if block.page == "docs/plugins.md":
            exec(block.compiled(), namespace)
    return namespace


_GUIDE = _plugin_guide()
#: The guide's own test classes, collected here: the guide's DictStore passes StoreContract
#: and its ZlibRawCodec passes CodecContract.
TestPluginGuideDictStore = _GUIDE["TestDictStore"]
TestPluginGuideZlibRawCodec = _GUIDE["TestZlibRaw"]


def test_the_plugin_guide_tests_its_store_with_the_contract():
    from precomputed_core.testing import CodecContract, StoreContract

    assert issubclass(TestPluginGuideDictStore, StoreContract)
    assert issubclass(TestPluginGuideZlibRawCodec, CodecContract)
    assert not _GUIDE["DictStore"].__abstractmethods__, "the guide's DictStore is not complete"


#: The guide's classes, importable as the "module:attr" targets its plugin module declares.
GuideDictStore = _GUIDE["DictStore"]
GuideZlibRawCodec = _GUIDE["ZlibRawCodec"]


class _PluginGuidePlugin:
    @hookimpl
    def precomputed_register_drivers(self, registry: Any) -> None:
        registry.add("dictstore", f"{__name__}:GuideDictStore")

    @hookimpl
    def precomputed_register_codecs(self, registry: Any) -> None:
        registry.add("zlib_raw", f"{__name__}:GuideZlibRawCodec")


def test_the_plugin_guide_store_and_codec_serve_a_volume():
    """Registered as the guide registers them, they store a layer that reads back exactly."""
    register(_PluginGuidePlugin(), name="plugin-guide")
    try:
        info = CloudVolume.create_new_info(1, "image", "uint16", "zlib_raw", [4, 4, 40], [0, 0, 0], [96, 64, 20],
                                           chunk_size=[32, 32, 16])  # fmt: skip
        data = _pattern((96, 64, 20), "uint16", labels=False)
        with CloudVolume("dictstore://bucket/guide/image", info=info, progress=False, compress="gzip") as vol:
            vol.commit_info()
            vol[:, :, :] = data
            assert all(vol.exists(vol.bounds).values())
        with CloudVolume("precomputed://dictstore://bucket/guide/image", progress=False) as again:
            assert again.encoding == "zlib_raw"
            np.testing.assert_array_equal(again[:, :, :][..., 0], data)
            np.testing.assert_array_equal(again[5:40, 3:35, 15:17][..., 0], data[5:40, 3:35, 15:17])
    finally:
        refresh_plugins()
