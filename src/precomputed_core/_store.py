"""``Store``: a key-value view of one layer's directory, batched by design."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .exceptions import FeatureUnavailableError, ReadOnlyError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from types import TracebackType

    from typing_extensions import Self

    from ._paths import CloudPath

__all__ = ["ObjectMetadata", "Store"]


@dataclass(frozen=True, slots=True)
class ObjectMetadata:
    """What a store records with an object, as HTTP headers do.

    ``content_encoding`` is the transfer compression of the bytes handed to
    ``put`` (``"gzip"``, ``"br"``, ``"zstd"`` or None); stores give the
    decompressed bytes back from ``get``.
    """

    content_type: str = "application/octet-stream"
    content_encoding: str | None = None
    cache_control: str | None = None


DEFAULT_METADATA = ObjectMetadata()


class Store(ABC):
    """Objects of one layer, addressed by ``/``-separated keys relative to the layer.

    Keys look like ``"info"`` or ``"4_4_40/0-64_0-64_0-64"``; a scale key may
    contain ``..`` (the spec allows paths relative to the info's directory).
    A missing object is ``None``; only "not found" is missing: a refusal, a
    timeout or corrupt compressed bytes raise and never become zeros.

    Subclasses implement ``get``/``put``/``delete``/``exists``/``list`` and
    override the ``*_many`` methods when they can batch.
    """

    #: Concurrent operations worth running against this store from one process.
    io_threads: int = 8
    #: Objects per ``get_many``/``put_many`` call the pipeline makes from one thread;
    #: stores that batch requests (one round trip for many keys) raise it.
    batch_size: int = 1

    @classmethod
    def from_cloudpath(cls, path: CloudPath, **options: Any) -> Self:
        """Open the store of the layer at ``path`` (the driver entry point)."""
        raise FeatureUnavailableError(f"{cls.__name__} cannot be opened from a cloud path")

    @property
    @abstractmethod
    def url(self) -> str:
        """The cloud path of the layer this store serves."""

    @property
    def supports_writes(self) -> bool:
        return True

    @property
    def supports_deletes(self) -> bool:
        return self.supports_writes

    @property
    def supports_ranges(self) -> bool:
        return False

    @property
    def shared_between_processes(self) -> bool:
        """Whether another process opening the same path sees these objects (False for in-memory)."""
        return True

    def describe(self, key: str) -> str:
        """The full cloud path of ``key`` (for messages)."""
        return f"{self.url}/{key}"

    # --- the small abstract surface ----------------------------------------

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The (decompressed) bytes of ``key``, or None if there is no such object."""

    @abstractmethod
    def put(self, key: str, value: bytes, *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        """Store ``value`` (already compressed as ``metadata.content_encoding`` says)."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""

    @abstractmethod
    def exists(self, key: str) -> bool:
        """Whether ``key`` exists."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``."""

    # --- optional ----------------------------------------------------------

    def get_range(
        self, key: str, start: int, end: int | None, *, whole_size: int | None = None
    ) -> bytes | None:
        """Bytes ``[start, end)`` of ``key`` stored uncompressed (a negative start counts from the end).

        None when there is no such uncompressed object, or, with ``whole_size``, when
        the object's size differs from it: the caller then reads the object whole
        (which finds compressed variants and reports wrong sizes).
        """
        raise FeatureUnavailableError(f"{type(self).__name__} does not serve byte ranges")

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to close
        """Release connections or handles."""

    # --- batched defaults ----------------------------------------------------

    def get_many(self, keys: Iterable[str]) -> dict[str, bytes | None]:
        return {key: self.get(key) for key in keys}

    def put_many(self, items: Mapping[str, bytes], *, metadata: ObjectMetadata = DEFAULT_METADATA) -> None:
        for key, value in items.items():
            self.put(key, value, metadata=metadata)

    def delete_many(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.delete(key)

    def exists_many(self, keys: Iterable[str]) -> dict[str, bool]:
        return {key: self.exists(key) for key in keys}

    # --- helpers for subclasses ------------------------------------------------

    def require_writes(self, action: str = "write") -> None:
        if not self.supports_writes:
            raise ReadOnlyError(f"{self.url} is read-only; cannot {action}. Use a writable location")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
