"""The service's read-only web view (`[service] http`): server-rendered pages over the store."""
