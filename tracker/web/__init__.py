"""The web layer every blueprint shares.

Access rules, security headers, serving behind a proxy, error pages, the
health check and the shared form fields.
"""
