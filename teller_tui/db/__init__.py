"""Storage: the engine factory, transactions and schema management."""
