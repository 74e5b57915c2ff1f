"""The bundled mock DMP server (reuses dmpclient's protocol core)."""
