"""Sites: the clinics of a group, and keeping each site's patients to its staff."""
