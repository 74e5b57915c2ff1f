"""Credentials, mutual TLS, the VIHF assertion (build, sign, verify) and the test PKI generator."""
