"""Pages read ahead: a background thread iterates a page generator of the client (HTTP only)
while the caller works on the pages already read.

The thread only pulls the pages (``iter_pages`` of :class:`~.client.SpApiClient`: requests,
rate buckets, retries); it never touches the caller's state. Pages come out in Amazon's order,
and an error of the thread comes out where it happened, after the pages read before it, so the
caller sees what a plain ``for page in pages`` would have given it.
"""

import queue
import threading

#: Pages read ahead at most (each one is a parsed answer held in memory).
DEFAULT_DEPTH = 8
# How long a blocked hand-over waits before it checks whether the reader was closed.
_POLL_SECONDS = 0.1

_PAGE, _ERROR, _END = "page", "error", "end"


class Prefetch:
    """Iterate ``pages`` read by a background thread, at most ``depth`` pages ahead.

    ``limit``: read at most that many pages (a caller with a page budget reads no page it
    will not use). Use it as a context manager (or call :meth:`close`): leaving the block
    early stops the thread and waits for it.
    """

    def __init__(self, pages, depth=DEFAULT_DEPTH, limit=None, name="spapi-prefetch"):
        self._pages = pages
        self._limit = limit
        self._queue = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._started = False

    # -- the reading thread ----------------------------------------------------------------

    def _read(self):
        iterator = None
        try:
            iterator = iter(self._pages)
            read = 0
            while not self._stop.is_set():
                if self._limit is not None and read >= self._limit:
                    break
                try:
                    page = next(iterator)
                except StopIteration:
                    break
                read += 1
                if not self._hand_over((_PAGE, page)):
                    return
            self._hand_over((_END, None))
        except BaseException as exc:
            self._hand_over((_ERROR, exc))
        finally:
            close = getattr(iterator, "close", None)
            if close:
                close()

    def _hand_over(self, item):
        """Queue ``item``; False when the reader was closed meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    # -- the caller's side -----------------------------------------------------------------

    def start(self):
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def __iter__(self):
        self.start()
        while True:
            kind, value = self._queue.get()
            if kind == _PAGE:
                yield value
            elif kind == _ERROR:
                raise value
            else:
                return

    def close(self):
        """Stop reading ahead and wait for the thread (a request under way ends first)."""
        self._stop.set()
        if self._started:
            self._thread.join()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()
        return False
