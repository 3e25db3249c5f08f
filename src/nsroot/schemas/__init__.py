"""Schemas: versioned JSON Schemas, their compatibility rules, and validation of metadata."""
