"""Reporting: trial filters, the bridge to DataFrames, the summary and its charts."""
