"""Business rules of the mock DMP that are not storage: authorisation precedence, document visibility, filters."""
