"""keyturn: rotate the API credentials of a self-hosted n8n without breaking its workflows."""

__version__ = "0.1.0"
