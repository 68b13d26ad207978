"""Generators run in a forked child: items, errors and early stops cross back."""

import os
import time

import pytest

from tracker.csvio.forked import ChildFailed, items_from_child


class Refused(Exception):
    pass


def test_items_arrive_in_order_from_another_process():
    def numbers():
        for number in range(5):
            yield number, os.getpid()

    received = list(items_from_child(numbers))
    assert [number for number, _pid in received] == [0, 1, 2, 3, 4]
    assert {pid for _number, pid in received} != {os.getpid()}


def test_an_exception_passed_on_is_raised_here_after_the_items_before_it():
    def refusing():
        yield "first"
        raise Refused("line 7: not a trial file")

    received = []
    with pytest.raises(Refused, match="line 7: not a trial file"):
        for item in items_from_child(refusing, passed_on=(Refused,)):
            received.append(item)
    assert received == ["first"]


def test_any_other_exception_ends_with_the_childs_traceback():
    def failing():
        yield 1
        raise KeyError("patient_code")

    with pytest.raises(ChildFailed, match="KeyError: 'patient_code'"):
        list(items_from_child(failing))


def test_a_child_that_dies_is_reported_not_waited_for():
    def dying():
        yield 1
        os._exit(3)

    with pytest.raises(ChildFailed, match="exit code 3"):
        list(items_from_child(dying))


def test_stopping_early_stops_the_child(tmp_path):
    marker = tmp_path / "child.pid"

    def endless():
        marker.write_text(str(os.getpid()))
        number = 0
        while True:
            yield "x" * 100_000, number
            number += 1

    items = items_from_child(endless)
    assert next(items)[1] == 0
    items.close()
    child = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_a_child_that_hangs_is_stopped_after_the_silence_allowed(tmp_path):
    marker = tmp_path / "child.pid"

    def hanging():
        marker.write_text(str(os.getpid()))
        yield 1
        time.sleep(60)

    items = items_from_child(hanging, silence=0.5)
    assert next(items) == 1
    with pytest.raises(ChildFailed, match="sent nothing for 0.5 s"):
        next(items)
    with pytest.raises(ProcessLookupError):
        os.kill(int(marker.read_text()), 0)
