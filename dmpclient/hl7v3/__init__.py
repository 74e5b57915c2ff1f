"""hl7v3 package."""
