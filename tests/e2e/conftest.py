"""End-to-end tests reuse the mock fixtures (a fresh mock per test, its web PS site served to browsers)."""

from tests.mock_server.conftest import fresh_mock

__all__ = ["fresh_mock"]
