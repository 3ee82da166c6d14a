"""`keyturn serve`: unattended rotation and credential health, with metrics, alerts and a
dashboard (docs/serve.md)."""
