"""Small shared helpers (image validation and dtype handling)."""
