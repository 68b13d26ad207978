"""A generator run in a forked child process while this one uses its items.

An import has two halves of about equal cost, both Python: reading and
checking rows, and writing them. One process runs one at a time however many
cores the machine has (the GIL); a forked child checking the next rows while
this process writes the last ones uses two. The child starts as a copy of
this process (forms built, app loaded), so it costs milliseconds, and it
touches only what it was given: it never uses a database connection.

Items and exceptions cross a pipe pickled. The pipe holds less than one
item, so the child is at most about one item ahead and memory stays bounded.

The child is a copy of a server worker or a command, so it first undoes what
it should not have inherited: the parent's signal handlers (gunicorn's
SIGTERM handler would let it ignore being stopped) and every file descriptor
but its end of the pipe, the file it reads and the standard streams (a copy
of the pipe's read end would let it write into a pipe nobody reads, for
ever). On Linux it also asks to be killed when its parent dies.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

#: Seconds to wait for a child whose pipe closed to exit, for its exit code;
#: and for a stopped child to end before it is killed.
_EXIT_WAIT = 5.0
#: prctl(2): have the kernel send this process a signal when its parent dies.
_PR_SET_PDEATHSIG = 1


class ChildFailed(RuntimeError):
    """The child process stopped on an error it was not told to pass on."""


def can_fork() -> bool:
    """Whether this platform forks (not Windows); elsewhere run in-process."""
    return hasattr(os, "fork")


def items_from_child(
    make_items: Callable[[], Iterator[T]],
    passed_on: tuple[type[BaseException], ...] = (),
    silence: float = 60.0,
    keep_fds: Iterable[int] = (),
) -> Iterator[T]:
    """Yield what ``make_items()`` yields, computed in a forked child.

    An exception of a ``passed_on`` type is raised here as the child raised
    it; any other ends in :class:`ChildFailed` with the child's traceback.
    So does a child that sends nothing for ``silence`` seconds: a fork
    copies only the forking thread, so a lock another thread of a threaded
    server held at that moment stays locked in the child for good (rare,
    but a hung import would wait forever). Closing the generator early
    stops the child. ``keep_fds`` are the descriptors ``make_items`` reads
    (an open file's); the child closes every other one it inherited.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_send_items,
        args=(make_items, passed_on, sender, os.getpid(), tuple(keep_fds)),
        daemon=True,
    )
    child.start()
    sender.close()
    try:
        while True:
            if not receiver.poll(silence):
                raise ChildFailed(f"the child process sent nothing for {silence:g} s")
            try:
                kind, item = receiver.recv()
            except EOFError:
                # The pipe closes a moment before the child has exited:
                # wait for it, or its exit code is still None.
                child.join(_EXIT_WAIT)
                raise ChildFailed(
                    f"the child process ended without a word (exit code "
                    f"{child.exitcode})"
                ) from None
            if kind == "item":
                yield item
            elif kind == "done":
                return
            elif kind == "raise":
                raise item
            else:
                raise ChildFailed(item)
    finally:
        if child.is_alive():
            child.terminate()
            child.join(_EXIT_WAIT)
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()


def _send_items(make_items, passed_on, sender, parent: int, keep_fds) -> None:
    _forget_the_parent(parent, keep=(sender.fileno(), *keep_fds))
    try:
        for item in make_items():
            sender.send(("item", item))
    except passed_on as error:
        sender.send(("raise", error))
    except BaseException:
        sender.send(("failed", traceback.format_exc()))
    else:
        sender.send(("done", None))
    finally:
        sender.close()


def _forget_the_parent(parent: int, keep: tuple[int, ...]) -> None:
    """Undo, in the child, what it inherited and must not keep."""
    for number in signal.valid_signals():
        try:
            if signal.getsignal(number) not in (signal.SIG_DFL, signal.SIG_IGN, None):
                signal.signal(number, signal.SIG_DFL)
        except (OSError, ValueError):
            pass  # signals that cannot be caught, or belong to the system
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    start = 0
    for descriptor in sorted({0, 1, 2, *keep}):
        # Never an empty range: closerange(0, 0) closes every descriptor.
        if start < descriptor:
            os.closerange(start, descriptor)
        start = descriptor + 1
    os.closerange(start, max(start + 1, os.sysconf("SC_OPEN_MAX")))
