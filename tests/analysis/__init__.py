"""Tests of the :mod:`analysis` library, with their data builders."""
