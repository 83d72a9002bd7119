"""The long-running service (`regwatch run`): scheduler, health listener, instance lock, systemd glue."""
