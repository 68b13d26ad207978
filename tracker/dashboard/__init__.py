"""The clinic dashboard, its JSON twin and the chart library it needs."""
