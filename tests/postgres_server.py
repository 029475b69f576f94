"""A throwaway PostgreSQL server of our own, for the tests and the benchmarks.

`initdb` and `pg_ctl` from the server binaries (Debian: the `postgresql` package, under
/usr/lib/postgresql/<version>/bin) in a temporary directory, listening on a free port of
127.0.0.1 with a password (scram-sha-256), so that the URL the tests use has a secret in it.
`initdb` refuses to run as root (CI runs as root): then the server runs as the `postgres` system
user. A server that cannot start is an error, never a skip.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg

BIN_ENV = "DESCRIPT_IAC_PG_BIN"


class PostgresUnavailable(RuntimeError):
    pass


def find_bindir() -> Path:
    """Where initdb and pg_ctl are: $DESCRIPT_IAC_PG_BIN, Debian's layout, or the PATH."""
    if os.environ.get(BIN_ENV):
        return Path(os.environ[BIN_ENV])
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if debian:
        return Path(debian[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Install them (Debian/Ubuntu: "
        f"`sudo apt-get install -y postgresql`; macOS: `brew install postgresql@15`) or set "
        f"{BIN_ENV} to their directory."
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str
    bindir: Path
    runas: list[str]
    _databases: int = 0

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres:{self.password}@127.0.0.1:{self.port}/{dbname}"

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url(dbname), autocommit=True)

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        self._databases += 1
        name = f"t{os.getpid()}_{self._databases}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [
                *self.runas,
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.root / "data"),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(durable: bool = False) -> PostgresServer:
    """Start a server; `durable` keeps fsync on (benchmarks), else it is off (tests)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="descript-iac-pg-"))
    runas: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root, and there is no `postgres` system user to run the server as"
            ) from None
        os.chown(root, user.pw_uid, user.pw_gid)
        runas = ["runuser", "-u", "postgres", "--"]
    password = secrets.token_hex(12)
    pwfile = root / "pw"
    pwfile.write_text(password + "\n")
    if runas:
        user = pwd.getpwnam("postgres")
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    port = _free_port()
    data = root / "data"

    def run(*args: str) -> None:
        done = subprocess.run([*runas, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = (root / "log").read_text() if (root / "log").exists() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailable(
                f"{Path(args[0]).name} failed ({done.returncode}): {done.stdout}{done.stderr}{log}"
            )

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-locale",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        f"--pwfile={pwfile}",
        "--no-sync",
    )
    settings = [
        f"-p {port}",
        "-c listen_addresses=127.0.0.1",
        f"-c unix_socket_directories={root}",
        "-c shared_preload_libraries=pg_stat_statements",
        "-c max_connections=60",
    ]
    if not durable:
        settings += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "log"),
        "-w",
        "-t",
        "60",
        "-o",
        " ".join(settings),
        "start",
    )
    return PostgresServer(root, port, password, bindir, runas)
