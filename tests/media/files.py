"""Media files made by the tests, of known durations: WAV (the stdlib's wave), MP3 (constant
bit rate frames of silence), MP4 (a minimal ISO file: ftyp, mdat and a moov with its mvhd, the
moov at either end) and FLAC (a STREAMINFO block)."""

from __future__ import annotations

import io
import struct
import wave


def wav(seconds: float, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(rate * seconds))
    return out.getvalue()


def mp3(seconds: float) -> bytes:
    """MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, mono: frames of 1152 samples, 417 bytes each."""
    header = bytes([0xFF, 0xFB, 0x90, 0xC4])  # sync, MPEG-1 L3 no CRC; 128k, 44.1k; mono
    frame = header + b"\0" * (417 - len(header))
    return frame * round(seconds * 44100 / 1152)


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4(seconds: float, moov_at_end: bool = True, padding: int = 200_000) -> bytes:
    """An MP4 whose movie header says `seconds` (timescale 1000), with `padding` bytes of media
    data between or after the boxes (so that the moov is not in the first block)."""
    timescale = 1000
    mvhd = _box(
        b"mvhd",
        struct.pack(">B3xIIII", 0, 0, 0, timescale, int(seconds * timescale))
        + struct.pack(">IH10x", 0x00010000, 0x0100)
        + struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
        + b"\0" * 24
        + struct.pack(">I", 2),
    )
    moov = _box(b"moov", mvhd)
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    mdat = _box(b"mdat", b"\0" * padding)
    return ftyp + (mdat + moov if moov_at_end else moov + mdat)


def flac(seconds: float, rate: int = 44100) -> bytes:
    samples = int(seconds * rate)
    info = struct.pack(">HH", 4096, 4096) + b"\0\0\0" + b"\0\0\0"
    # sample rate (20 bits), channels-1 (3), bits-1 (5), total samples (36)
    packed = (rate << 44) | (0 << 41) | (15 << 36) | samples
    info += packed.to_bytes(8, "big") + b"\0" * 16
    block = bytes([0x80]) + len(info).to_bytes(3, "big") + info  # last block, STREAMINFO
    return b"fLaC" + block
