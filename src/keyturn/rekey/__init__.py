"""`keyturn rekey`: rotate n8n's own encryption key (N8N_ENCRYPTION_KEY) in its database.

ciphers: n8n's encryption formats; places: where n8n keeps data tied to the key, per version;
database: n8n's database (SQLite or PostgreSQL); plan: every value decrypted with the old key
before anything changes; apply: backup, one transaction, verification, config and stores;
running: is n8n still using the database. docs/rekey.md is the runbook.
"""
