from __future__ import annotations

from descript_iac.cli import main

main()
