"""A fuzz campaign for every decoder of dmpclient and for the running mock over mutual TLS (issue "Hardening").

``make fuzz`` (``python -m fuzz``) runs at least 10,000 cases: mutations of valid messages (bytes and structure)
and the classic hostile families (entities, DTDs, nesting, huge names, attributes and texts, element and part
floods, encodings, truncated MIME, endless streams), then hostile requests, slow and endless streams against
the mock. It reports the number of cases, the exceptions that are not ``DmpError`` (must be 0), the cases over
the time limit (must be 0) and the peak memory, and exits non-zero on any finding. A short campaign runs in
the test suite (``tests/fuzz``).

Targets live in :mod:`fuzz.targets` (one line per decoder), inputs in :mod:`fuzz.mutations`, seeds in
:mod:`fuzz.corpus`, the engine in :mod:`fuzz.runner` and the network campaign in :mod:`fuzz.network`.
"""
