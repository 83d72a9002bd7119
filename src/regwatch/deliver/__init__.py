"""Alerts: the outbox sender, message model and the chat channels."""
