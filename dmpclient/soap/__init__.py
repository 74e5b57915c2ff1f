"""SOAP 1.2 + WS-Addressing + WS-Security envelopes, SOAP faults and MTOM/XOP (pure, no I/O)."""
