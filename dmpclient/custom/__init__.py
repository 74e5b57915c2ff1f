"""Codecs of the DMP's custom services (``urn:si-dmp-*`` bodies): habilitations (TD0.3, TD1.6) and
patientsSpecific (TD0.4), both directions, pure (reference §1.3, §3.4, §3.5, §3.13)."""
