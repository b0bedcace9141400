"""Report documents downloaded as they arrive: GZIP read chunk by chunk, into a file."""

import gzip
import io
import logging
import tempfile

import pytest
import requests
from fakes import FakeResponse, make_client

from spapi import DocumentError, TransportError
from spapi.documents import DOWNLOAD_CHUNK, gunzipped

URL = "https://s3.test/doc?X-Amz-Signature=secret-signature"
TEXT = "".join(f"settlement-id\t{n}\tOrder\tPrincipal\t{n % 97}.00\n" for n in range(20000))
CONTENT = TEXT.encode()


def chunked(data, size):
    return [data[start : start + size] for start in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 7, 1000, 10**9])
def test_gzip_read_in_chunks_of_any_size(size):
    compressed = gzip.compress(CONTENT)
    assert b"".join(gunzipped(chunked(compressed, size), "op")) == CONTENT


def test_several_members_and_zero_padding_read_as_gzip_reads_them():
    data = gzip.compress(b"first\n") + gzip.compress(b"second\n") + b"\0" * 8
    assert gzip.decompress(data) == b"first\nsecond\n"
    for size in (1, 3, len(data)):
        assert b"".join(gunzipped(chunked(data, size), "op")) == b"first\nsecond\n"


def test_content_already_decoded_is_taken_as_it_is():
    # requests decodes a Content-Encoding: gzip answer itself
    assert b"".join(gunzipped(chunked(CONTENT, 1), "op")) == CONTENT
    assert b"".join(gunzipped([b"s", b"ettlement"], "op")) == b"settlement"
    assert b"".join(gunzipped([], "op")) == b""


def test_no_chunk_larger_than_the_download_chunk_whatever_the_ratio():
    zeros = gzip.compress(b"0" * (5 * DOWNLOAD_CHUNK))
    assert len(zeros) < DOWNLOAD_CHUNK // 100
    sizes = [len(part) for part in gunzipped([zeros], "op")]
    assert sum(sizes) == 5 * DOWNLOAD_CHUNK and max(sizes) <= DOWNLOAD_CHUNK


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut off
        lambda data: data[:-4],  # the size trailer missing
        lambda data: data[:20] + bytes(b ^ 0xFF for b in data[20:40]) + data[40:],
        lambda data: data + b"garbage after the member",
    ],
)
def test_damaged_gzip_is_a_transport_error_naming_the_operation(damage):
    data = damage(gzip.compress(CONTENT))
    with pytest.raises(DocumentError) as info:  # a TransportError: a retry may get it whole
        b"".join(gunzipped(chunked(data, 4096), "downloadReportDocument"))
    assert info.value.operation == "downloadReportDocument"
    assert "GZIP" in info.value.message


def test_download_into_a_file_streams_and_closes_the_answer():
    response = FakeResponse(200, content=gzip.compress(CONTENT))
    client, session, _lwa, _clock = make_client(response)
    with tempfile.TemporaryFile() as file:
        returned = client.download_report_document(
            {"url": URL, "compressionAlgorithm": "GZIP"}, into=file
        )
        assert returned is file and file.tell() == 0
        assert file.read() == CONTENT
    assert session.calls[0][2]["stream"] is True
    assert "x-amz-access-token" not in session.calls[0][2]["headers"]
    assert response.closed
    assert client.health["reports"]["success"]


def test_download_without_a_file_gives_the_bytes():
    client, _session, _lwa, _clock = make_client(FakeResponse(200, content=CONTENT))
    assert client.download_report_document({"url": URL}) == CONTENT


class CutOffResponse(FakeResponse):
    def iter_content(self, chunk_size=1):
        yield self.content[:100]
        raise requests.exceptions.ChunkedEncodingError("Connection broken: secret-signature")


@pytest.mark.parametrize(
    "response, text",
    [
        (CutOffResponse(200, content=CONTENT), "cut off"),
        (FakeResponse(200, content=gzip.compress(CONTENT)[:500]), "GZIP"),  # DocumentError
        (FakeResponse(403, content=b"<Error>AccessDenied</Error>"), None),
    ],
)
def test_failed_download_is_an_error_the_url_never_in_it(response, text, caplog):
    client, _session, _lwa, _clock = make_client(response)
    caplog.set_level(logging.DEBUG)
    file = io.BytesIO()
    with pytest.raises(TransportError if text else Exception) as info:
        client.download_report_document({"url": URL, "compressionAlgorithm": "GZIP"}, into=file)
    if text:
        assert text in info.value.message
    else:
        assert info.value.status_code == 403
    assert "secret-signature" not in str(info.value) + caplog.text
    assert response.closed
    assert client.health["reports"]["error"] is info.value
