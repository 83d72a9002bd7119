"""The watchlists shipped with regwatch (TOML data; this file only makes them installable)."""
