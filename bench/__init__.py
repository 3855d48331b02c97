"""Measurement scripts run by make targets; never deployed."""
