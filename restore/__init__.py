"""Restore: a service-restoration record and dashboard."""
