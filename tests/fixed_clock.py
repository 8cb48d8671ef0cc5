"""The instant the suite's fixed clock reads: a plain module, so any test can import it (two
conftest modules would make ``from conftest import ...`` pick whichever was loaded first)."""

from datetime import UTC, datetime

FIXED_NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
