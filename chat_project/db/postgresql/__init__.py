"""Django's PostgreSQL backend with two savings on the hot path; see base.py."""
