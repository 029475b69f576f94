"""descript-iac: Descript projects as code (plan and apply import and agent jobs)."""

from __future__ import annotations

__version__ = "0.1.0"
