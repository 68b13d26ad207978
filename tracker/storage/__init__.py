"""Storage: connection settings, dialect SQL, the schema and bulk inserts."""
