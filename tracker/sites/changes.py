"""Adding a site, and the audit rows of a site's changes.

Apart from :mod:`.membership`, which the patient form imports: the form
(and the import's row checks, which use it) need no audit trail.
"""

from __future__ import annotations

from .. import audit
from ..extensions import db
from ..models import Site


def add_site(name: str, **details) -> Site:
    """A new site, audited (uncommitted); ``details`` go into the audit row."""
    site = Site(name=name)
    db.session.add(site)
    db.session.flush()
    audit_site("site_create", site, {"name": name, **details})
    return site


def audit_site(action: str, site: Site, details: dict) -> None:
    """An audit row about ``site``, in its history."""
    audit.log_event(action, details, table_name="site", record_id=site.id)
