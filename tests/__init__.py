"""The test suite, a package so its helpers import as ``tests.…``.

As a package, ``tests/analysis`` is ``tests.analysis`` and cannot shadow the
top-level :mod:`analysis` library it tests.
"""
