"""The emulator's hostile mode (`--hostile-text`): text the API returns is untrusted, and this
is the worst of it, appended to agent replies, error messages (of jobs, media and every error
reply) and job progress labels."""

from __future__ import annotations

# Escape sequences a language model (or a proxy) could put in a reply: a window title, a cleared
# screen, the clipboard (OSC 52), a link that points elsewhere (OSC 8), a carriage return that
# rewrites the line, a right-to-left override, and a very long line.
HOSTILE_TEXT = (
    "ok\x1b]0;PWNED-TITLE\x07\x1b[2J\x1b]52;c;cHduZWQ=\x07\r\x1b[31mFAKE SUCCESS\x1b[0m"
    "\x1b]8;;https://evil.example/\x1b\\https://web.descript.com/ok\x1b]8;;\x1b\\"
    "\u202egnp.exe\u202c\nFORGED LINE" + "x" * 500
)
