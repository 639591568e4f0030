"""Sample configuration and importers: ways to fill an LHC database with known content."""
