"""A simulated Underlord: turns a prompt into recorded edits, a reply and a credit cost."""

from __future__ import annotations

from dataclasses import dataclass

# keyword in the prompt -> (edit recorded on the project, phrase in the agent's reply)
_EDITS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("studio sound",), "studio_sound", "applied Studio Sound to enhance your audio quality"),
    (("caption", "subtitle"), "captions", "added karaoke-style captions"),
    (("filler",), "remove_filler_words", "removed filler words"),
    (("highlight", "reel"), "highlight_reel", "created a highlight reel"),
    (("script", "write"), "write_script", "written a script"),
    (("music",), "background_music", "added background music"),
    (("title",), "title_card", "added a title card"),
    (("shorten", "tighten", "trim"), "tighten", "tightened the pacing"),
)


@dataclass(frozen=True)
class AgentOutcome:
    edits: tuple[str, ...]
    reply: str  # the job's agent_response then quotes the prompt after it
    ai_credits: int


def run_prompt(prompt: str) -> AgentOutcome:
    """Deterministic: the same prompt always gives the same edits, reply and cost."""
    text = prompt.lower()
    edits: list[str] = []
    phrases: list[str] = []
    for keywords, edit, phrase in _EDITS:
        if any(k in text for k in keywords) and edit not in edits:
            edits.append(edit)
            phrases.append(phrase)
    if not edits:
        edits, phrases = ["custom_edit"], ["made the requested edit"]
    if len(phrases) > 1:
        summary = ", ".join(phrases[:-1]) + " and " + phrases[-1]
    else:
        summary = phrases[0]
    credits = 8 * len(edits) + min(len(prompt) // 10, 40)
    return AgentOutcome(tuple(edits), f"Done! I've {summary}", credits)
