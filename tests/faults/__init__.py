"""Fault suite: one small hostile server on 127.0.0.1 per kind of fault, and what regwatch must do about it."""
