"""A generator run in a forked child process while this one uses its items.

An import has two halves of about equal cost, both Python: reading and
checking rows, and writing them. One process runs one at a time however many
cores the machine has (the GIL); a forked child checking the next rows while
this process writes the last ones uses two. The child starts as a copy of
this process (forms built, app loaded), so it costs milliseconds, and it
touches only what it was given: it never uses a database connection.

Items and exceptions cross a pipe pickled. The pipe holds less than one
item, so the child is at most about one item ahead and memory stays bounded.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

#: Seconds to wait for a child whose pipe closed to exit, for its exit code.
_EXIT_WAIT = 5.0


class ChildFailed(RuntimeError):
    """The child process stopped on an error it was not told to pass on."""


def can_fork() -> bool:
    """Whether this platform forks (not Windows); elsewhere run in-process."""
    return hasattr(os, "fork")


def items_from_child(
    make_items: Callable[[], Iterator[T]],
    passed_on: tuple[type[BaseException], ...] = (),
    silence: float = 60.0,
) -> Iterator[T]:
    """Yield what ``make_items()`` yields, computed in a forked child.

    An exception of a ``passed_on`` type is raised here as the child raised
    it; any other ends in :class:`ChildFailed` with the child's traceback.
    So does a child that sends nothing for ``silence`` seconds: a fork
    copies only the forking thread, so a lock another thread of a threaded
    server held at that moment stays locked in the child for good (rare,
    but a hung import would wait forever). Closing the generator early
    stops the child.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_send_items, args=(make_items, passed_on, sender), daemon=True
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
        child.join()
        receiver.close()


def _send_items(make_items, passed_on, sender) -> None:
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
