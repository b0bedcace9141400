"""Report documents read as they arrive: GZIP decompressed chunk by chunk."""

import itertools
import zlib

from .exceptions import DocumentError

# Bytes read from the document's answer at a time.
DOWNLOAD_CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"


def gunzipped(chunks, operation):
    """The decompressed content of GZIP ``chunks`` (one member or several, as ``gzip``
    writes them), chunk by chunk. Chunks that are not GZIP (already decoded because of a
    ``Content-Encoding: gzip`` header) are given as they are.

    :raise DocumentError: the GZIP data is damaged or cut off (in ``operation``)
    """
    try:
        yield from _gunzipped(chunks)
    except zlib.error:
        raise DocumentError(
            "The document is not the GZIP file Amazon announced (cut off or damaged).",
            operation=operation,
        ) from None


def _gunzipped(chunks):
    chunks = iter(chunks)
    head = b""
    for chunk in chunks:
        head += chunk
        if len(head) >= len(GZIP_MAGIC):
            break
    if not head.startswith(GZIP_MAGIC):
        if head:
            yield head
        yield from chunks
        return
    decompressor = None  # of the current member
    for data in itertools.chain([head], chunks):
        while data:
            if decompressor is None:
                if not data.strip(b"\0"):  # zeros after the last member (as gzip reads them)
                    break
                decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
            # never more than a chunk at once, whatever the compression ratio
            out = decompressor.decompress(data, DOWNLOAD_CHUNK)
            if out:
                yield out
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                data, decompressor = decompressor.unused_data, None
    if decompressor is not None:
        raise zlib.error("the GZIP data ends before its end")
