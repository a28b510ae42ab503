"""A ranged GET's reply becomes the bytes asked for, or a clear error: never bytes from elsewhere."""

from __future__ import annotations

import pytest

from precomputed_core import ByteRange, ObjectMetadata
from precomputed_core.exceptions import StorageError
from precomputed_drivers._ranges import RangeReply, answer
from precomputed_drivers.memory import MemoryStore

DATA = bytes(range(100))


@pytest.fixture
def store():
    return MemoryStore("ranges", "layer")


def test_a_part_is_checked_against_what_was_asked(store):
    asked = ByteRange("k", 10, 20)
    assert answer(store, asked, RangeReply(206, DATA[10:20], content_range="bytes 10-19/100")) == DATA[10:20]
    suffix = ByteRange("k", -5)
    assert answer(store, suffix, RangeReply(206, DATA[95:], content_range="bytes 95-99/100")) == DATA[95:]
    clipped = ByteRange("k", 90, 200)
    assert answer(store, clipped, RangeReply(206, DATA[90:], content_range="bytes 90-99/100")) == DATA[90:]


@pytest.mark.parametrize(
    ("body", "header"),
    [
        (DATA[11:21], "bytes 11-20/100"),  # the wrong place
        (DATA[10:15], "bytes 10-19/100"),  # cut short
        (DATA[10:15], "bytes 10-14/100"),  # less than asked although the object is longer
        (DATA[10:20], None),  # a part without its Content-Range
        (DATA[10:20], "items 10-19/100"),
    ],
)
def test_a_misplaced_or_short_part_is_an_error(store, body, header):
    with pytest.raises(StorageError, match="k"):
        answer(store, ByteRange("k", 10, 20), RangeReply(206, body, content_range=header))


def test_whole_objects_past_the_end_and_conditions(store):
    asked = ByteRange("k", 10, 20)
    assert answer(store, asked, RangeReply(200, DATA)) == DATA[10:20]  # a server that ignores Range
    assert answer(store, ByteRange("k", 500, 600), RangeReply(416, b"")) == b""
    assert answer(store, ByteRange("k", 500, 600, whole_size=100), RangeReply(416, b"")) is None
    sized = ByteRange("k", 10, 20, whole_size=99)
    assert answer(store, sized, RangeReply(206, DATA[10:20], content_range="bytes 10-19/100")) is None
    assert answer(store, sized, RangeReply(206, DATA[10:20], content_range="bytes 10-19/*")) is None
    gzip = ObjectMetadata(content_encoding="gzip")
    assert answer(store, ByteRange("k", 0, 4, whole_size=100), RangeReply(206, b"\x1f\x8b..", gzip)) is None
    with pytest.raises(StorageError, match="compressed"):
        answer(store, ByteRange("k", 0, 4), RangeReply(206, b"\x1f\x8b..", gzip, "bytes 0-3/30"))
