"""The real Kannel SMS gateway (Debian's bearerbox, smsbox, fakesmsc) on loopback, for tests.

    with KannelGateway(tmp_path, "http://127.0.0.1:8000/sms/in?secret=S") as kannel:
        kannel.send_from_phone("84912345678", "Đăng ký")       # a phone texts the shortcode
        httpx.get(kannel.sendsms_url, params={...})              # the app sends an SMS
        sms = kannel.wait_for(lambda s: s.receiver == "84912345678")  # the phone got it

Tests that use it carry `@needs_kannel` (or `pytestmark = KANNEL_MARKS`): skipped when the
binaries are missing, and with LOA_TEST_REQUIRE_KANNEL=1 (.ci/run) such a skip fails the run.

Inbound (phone -> app). For each SMS smsbox calls `GET inbound_url` with INBOUND_PARAMS
appended; the URL's own query string (e.g. `?secret=S`) is kept, but Kannel expands %x
anywhere in it, so `kannel_url` doubles its '%' (a hand-written kannel.conf must too):
    from=%p  sender as the network gives it ("84912345678")
    to=%P    the shortcode
    text=%b  the whole text, URL-encoded bytes; %a would squeeze runs of spaces
    id=%I    Kannel's message id, a UUID, unique per message
    ts=%T    when the SMSC got it, Unix seconds (%t is "YYYY-MM-DD+HH:MM:SS" in UTC)
    coding=%c, charset=%C   what the bytes of `text` are
With `mo_recode=True` (the default, smsbox `mo-recode`) Kannel turns UCS-2 texts into UTF-8,
so `text` is always UTF-8 with coding=0, charset=UTF-8. Without it a UCS-2 text (any
Vietnamese with accents) comes as raw UTF-16BE bytes with coding=2, charset=UTF-16BE;
`parse_inbound` decodes both. The app's answer never goes back as an SMS (`max-messages =
0`). smsbox counts only 200 and 202 as success (204 is a failure); on anything else it calls
again `http_retries` times, a second apart, then drops the SMS.

Outbound (app -> phone): `GET sendsms_url` with username, password, from=<shortcode>, to,
text, and for GSM-7 nothing more (coding=0 is the default), for anything else
`coding=2&charset=UTF-8` (text in UTF-8, Kannel sends UCS-2). Without coding=2 Kannel
replaces every non-GSM character by "?". Answers: 202 "0: Accepted for delivery" (no message
id in it), 403 "Authorization failed for sendsms". Long texts are split into concatenated
parts (153 GSM / 67 UCS-2 characters) up to `max_parts` (sendsms-user `max-messages`; with
Kannel's default of 1 they would be cut to one SMS without a word).

Delivery reports: add `dlr-mask=31` (1 delivered, 2 undelivered, 4 queued, 8 SMSC ack,
16 SMSC nack) and `dlr-url=<url with placeholders>` (build it with `kannel_url(url,
DLR_PARAMS)`). Against fakesmsc smsbox calls it twice per SMS: type=8 (reply=ACK/) when the
fake SMSC takes it, then type=1 (delivered). %I in a report is a fresh UUID, not the
message's, so the app must put its own reference into the dlr-url's query string.

The phone side is one fakesmsc in interactive mode: it reads the phones' messages from its
stdin, a line each (`84912345678 8085 text Xin chao`, or `ucs2` and URL-encoded UTF-16BE; at
most 255 bytes, its fgets buffer), and logs each message for a phone as `Got message N:
<from to type data>`, type `text` (raw), `ucs-2` (URL-encoded UTF-16BE), `data` or `udh`
(`udh <udh> data <bytes>`, URL-encoded, coding not shown: guessed here). The parts of a long
message are joined here, and so is a GSM text that a line break split in two. When idle it
looks at its socket only once a second, so the waits below nudge it with empty lines.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Literal, TypeVar
from urllib.parse import parse_qsl, unquote_to_bytes

import httpx
import pytest

from messages.sms import GSM7, encoding_of

HOST = "127.0.0.1"
BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
# stdbuf (coreutils) makes fakesmsc's stdin unbuffered: it select()s on the descriptor, so a
# line left in stdio's buffer would sit there until the next write.
STDBUF = shutil.which("stdbuf")
KANNEL_AVAILABLE: bool = STDBUF is not None and all(
    os.access(path, os.X_OK) for path in (BEARERBOX, SMSBOX, FAKESMSC)
)

KANNEL_MARKS = [
    pytest.mark.kannel,
    pytest.mark.skipif(
        not KANNEL_AVAILABLE, reason="needs Debian's kannel and kannel-extras (bearerbox etc.)"
    ),
]

INBOUND_PARAMS: dict[str, str] = {
    "from": "%p",
    "to": "%P",
    "text": "%b",
    "id": "%I",
    "ts": "%T",
    "coding": "%c",
    "charset": "%C",
}
DLR_PARAMS: dict[str, str] = {
    "type": "%d",  # 1 delivered, 2 undelivered, 4 queued, 8 SMSC ack, 16 SMSC nack
    "reply": "%A",  # the SMSC's answer, "ACK/" from fakesmsc
    "smsc_id": "%F",  # the SMSC's message id (final reports only)
    "phone": "%p",
    "ts": "%T",
}
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
NUDGE_EVERY = 0.1
MAX_FAKESMSC_LINE = 254  # fgets(buffer, 256) keeps room for the newline and the NUL

Coding = Literal["auto", "gsm", "ucs2"]
T = TypeVar("T", bound=Callable[..., object] | type)


def needs_kannel(obj: T) -> T:
    """Mark a test function or class as needing Kannel; skipped when Kannel is missing."""
    for mark in KANNEL_MARKS:
        obj = mark(obj)
    return obj


def kannel_url(url: str, params: Mapping[str, str]) -> str:
    """`url` with `params` (Kannel placeholders) appended, its own '%' escaped for Kannel."""
    # Kannel expands %x anywhere in the pattern: "%C3" in the URL would become "UTF-8" + "3".
    base = url.replace("%", "%%")
    query = "&".join(f"{key}={value}" for key, value in params.items())
    separator = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{separator}{query}"


@dataclass(frozen=True)
class InboundSms:
    """One call of smsbox to inbound_url, decoded."""

    sender: str
    receiver: str
    text: str
    id: str
    ts: int
    coding: int
    charset: str
    params: dict[str, str]  # every parameter, the URL's own ones (e.g. secret) included


def parse_inbound(query: str) -> InboundSms:
    """Decode the query string of smsbox's call to inbound_url (INBOUND_PARAMS)."""
    # latin-1 maps bytes to code points one to one, so the text's bytes survive for `charset`.
    raw = dict(parse_qsl(query, keep_blank_values=True, encoding="latin-1"))
    params = {key: value.encode("latin-1").decode("utf-8", "replace") for key, value in raw.items()}
    charset = params.get("charset", "") or "UTF-8"
    codec = "latin-1" if charset == "8-BIT" else charset
    return InboundSms(
        sender=params.get("from", ""),
        receiver=params.get("to", ""),
        text=raw.get("text", "").encode("latin-1").decode(codec, "replace"),
        id=params.get("id", ""),
        ts=int(params.get("ts") or 0),
        coding=int(params.get("coding") or 0),
        charset=charset,
        params=params,
    )


@dataclass(frozen=True)
class FakeSms:
    """A message the fake SMSC delivered to a phone; the parts of a long one joined."""

    sender: str
    receiver: str
    text: str
    kind: str  # text, ucs-2, data or udh (a part, or the joined parts of a long message)
    payload: bytes  # the message's bytes (UTF-8 for text, UTF-16BE for ucs-2)
    udh: bytes = b""  # a lone part's; empty once parts are joined
    parts: int = 1


_GOT = re.compile(rb"Got message \d+: <(.*)>\s*$", re.DOTALL)
_SENT = re.compile(rb"fakesmsc: sent message (\d+)")
_MT = re.compile(rb"(\S+) (\S+) (text|data|ucs-2|udh) (.*)", re.DOTALL)


def _decode_payload(kind: str, payload: bytes) -> str:
    if kind == "ucs-2":
        return payload.decode("utf-16-be", "replace")
    if kind == "udh":
        return _guess_text(payload)
    return payload.decode("utf-8", "replace")


def _guess_text(payload: bytes) -> str:
    """The text of a message with a UDH, whose coding fakesmsc does not print."""
    # Kannel holds GSM texts as UTF-8. UCS-2 Vietnamese has control bytes (0x00, 0x01, 0x1E as
    # the high byte of each character) that such text has not.
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("utf-16-be", "replace")
    if any(ch < " " and ch not in "\t\n\r" for ch in text):
        return payload.decode("utf-16-be", "replace")
    return text


def concatenation(udh: bytes) -> tuple[int, int, int] | None:
    """(reference, parts, part number) from a UDH's concatenation element, if it has one."""
    pos = 1  # after the UDH length
    while pos + 1 < len(udh):
        element, length = udh[pos], udh[pos + 1]
        data = udh[pos + 2 : pos + 2 + length]
        if element == 0x00 and length == 3:  # 8-bit reference
            return data[0], data[1], data[2]
        if element == 0x08 and length == 4:  # 16-bit reference
            return data[0] << 8 | data[1], data[2], data[3]
        pos += 2 + length
    return None


def join_parts(parts: Mapping[int, FakeSms]) -> FakeSms:
    """One message from the parts of a concatenated one, by part number."""
    first = parts[min(parts)]
    payload = b"".join(parts[number].payload for number in sorted(parts))
    return replace(first, text=_guess_text(payload), payload=payload, udh=b"", parts=len(parts))


def parse_fakesmsc_line(body: bytes) -> FakeSms | None:
    """Read `from to type data` as fakesmsc prints a message for a phone; None if it isn't one."""
    match = _MT.fullmatch(body)
    if match is None:
        return None
    sender, receiver, kind_bytes, data = match.groups()
    kind, udh = kind_bytes.decode(), b""
    if kind == "udh":
        # "udh <udh> data <text>", both URL-encoded
        udh_part, _, data = data.partition(b" data ")
        udh = unquote_to_bytes(udh_part)
    payload = data if kind == "text" else unquote_to_bytes(data.replace(b"+", b" "))
    return FakeSms(
        sender=sender.decode(),
        receiver=receiver.decode(),
        text=_decode_payload(kind, payload),
        kind=kind,
        payload=payload,
        udh=udh,
    )


def _encode_ucs2(text: str) -> bytes:
    """URL-encode UTF-16BE for fakesmsc, escaping only what its line protocol needs."""
    # Kannel's URL decoder passes other bytes through, and short lines matter: 255 bytes max.
    special = {0x00, 0x0A, 0x0D, 0x20, 0x25, 0x2B}  # NUL, LF, CR, space, %, +
    return b"".join(
        b"%%%02X" % byte if byte in special else bytes([byte]) for byte in text.encode("utf-16-be")
    )


def fakesmsc_line(phone: str, shortcode: str, text: str, coding: Coding = "auto") -> bytes:
    """The stdin line that makes fakesmsc send `text` from `phone` to `shortcode`."""
    if coding == "auto":
        # GSM-7 like a phone would, but the "text" type cannot carry line breaks.
        gsm = encoding_of(text) == GSM7 and not any(ch in text for ch in "\r\n")
        coding = "gsm" if gsm else "ucs2"
    if coding == "gsm":
        if any(ch in text for ch in "\r\n"):
            raise ValueError("fakesmsc's text type cannot carry line breaks; use ucs2")
        line = f"{phone} {shortcode} text {text}".encode()
    else:
        line = f"{phone} {shortcode} ucs2 ".encode() + _encode_ucs2(text)
    if len(line) > MAX_FAKESMSC_LINE:
        raise ValueError(f"fakesmsc reads at most {MAX_FAKESMSC_LINE} bytes a line: {line!r}")
    return line + b"\n"


def _free_ports(count: int) -> list[int]:
    # All sockets stay open until every port is picked, so the ports differ.
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def _quoted(value: str) -> str:
    if any(ch in value for ch in '"\r\n'):
        raise ValueError(f"cannot put {value!r} into kannel.conf")
    return f'"{value}"'


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class KannelGateway:
    """bearerbox, smsbox and fakesmsc on loopback ports, with their logs in `workdir`."""

    def __init__(
        self,
        workdir: Path,
        inbound_url: str,
        username: str = "loa",
        password: str = "kannel-test",
        shortcode: str = "8085",
        *,
        mo_recode: bool = True,
        http_retries: int = 0,
        max_parts: int = 10,
    ) -> None:
        self.workdir = Path(workdir)
        self.inbound_url = inbound_url
        self.shortcode = shortcode
        self.mo_recode = mo_recode
        self.http_retries = http_retries
        self.max_parts = max_parts
        self._username, self._password = username, password
        self.admin_port, self.smsbox_port, self.sendsms_port, self.smsc_port = _free_ports(4)
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._fakesmsc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._stdin_lock = threading.Lock()
        self._changed = threading.Condition()
        self._sent = 0
        self._received: list[FakeSms] = []
        self._parts: dict[tuple[str, str, int, int], dict[int, FakeSms]] = {}

    @property
    def sendsms_url(self) -> str:
        """smsbox's send-SMS endpoint."""
        return f"http://{HOST}:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def status_url(self) -> str:
        """bearerbox's status page (no password needed)."""
        return f"http://{HOST}:{self.admin_port}/status.txt"

    @property
    def username(self) -> str:
        """The sendsms user."""
        return self._username

    @property
    def password(self) -> str:
        """The sendsms user's password."""
        return self._password

    @property
    def config_path(self) -> Path:
        """Where kannel.conf is written."""
        return self.workdir / "kannel.conf"

    def config(self) -> str:
        """The kannel.conf for this gateway."""
        log = self.workdir
        get_url = kannel_url(self.inbound_url, INBOUND_PARAMS)
        return f"""\
group = core
admin-port = {self.admin_port}
admin-interface = {HOST}
admin-password = {_quoted("admin-" + self._password)}
admin-allow-ip = {HOST}
smsbox-port = {self.smsbox_port}
smsbox-interface = {HOST}
box-allow-ip = {HOST}
log-file = {_quoted(str(log / "bearerbox.log"))}
log-level = 0
access-log = {_quoted(str(log / "bearerbox-access.log"))}
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
port = {self.smsc_port}
our-host = {HOST}
connect-allow-ip = {HOST}

group = smsbox
bearerbox-host = {HOST}
bearerbox-port = {self.smsbox_port}
sendsms-port = {self.sendsms_port}
sendsms-interface = {HOST}
log-file = {_quoted(str(log / "smsbox.log"))}
log-level = 0
access-log = {_quoted(str(log / "smsbox-access.log"))}
mo-recode = {str(self.mo_recode).lower()}
http-request-retry = {self.http_retries}
http-queue-delay = 1

group = sendsms-user
username = {_quoted(self._username)}
password = {_quoted(self._password)}
user-allow-ip = {HOST}
# Long texts go as up to max_parts concatenated parts; with the default of 1 Kannel would cut
# them to one SMS without a word.
max-messages = {self.max_parts}
concatenation = true

group = sms-service
keyword = default
catch-all = true
get-url = {_quoted(get_url)}
# The app's HTTP answer must never go back to the phone as an SMS.
max-messages = 0
omit-empty = true
"""

    def __enter__(self) -> KannelGateway:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Write kannel.conf, start the three processes and wait until they are connected."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config())
        try:
            self._spawn("bearerbox", [str(BEARERBOX), "-v", "2", str(self.config_path)])
            self._until(self._answers(self.status_url), "bearerbox's admin port")
            self._spawn("smsbox", [str(SMSBOX), "-v", "2", str(self.config_path)])
            self._until(self._answers(self.sendsms_url), "smsbox's sendsms port")
            self._start_fakesmsc()
            self._until(self._connected, "smsbox and fakesmsc connected to bearerbox")
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process (terminate, then kill) and close the logs."""
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for proc in self._procs:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._fakesmsc is not None and self._fakesmsc.stdin is not None:
            self._fakesmsc.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout=STOP_TIMEOUT)
        for log in self._logs:
            log.close()
        self._procs, self._logs, self._fakesmsc, self._reader = [], [], None, None

    def send_from_phone(self, phone: str, text: str, coding: Coding = "auto") -> None:
        """Make the fake SMSC deliver an SMS from `phone` to the shortcode; wait until sent."""
        line = fakesmsc_line(phone, self.shortcode, text, coding)
        with self._stdin_lock:
            target = self._sent + 1
            self._write(line)
            # Waiting for fakesmsc's "sent message N" keeps one line in its pipe at a time.
            with self._changed:
                if not self._changed.wait_for(lambda: self._sent >= target, START_TIMEOUT):
                    raise TimeoutError(f"fakesmsc did not send {line!r}\n{self._log_tails()}")

    def received(self, timeout: float = 0.0) -> list[FakeSms]:
        """Messages delivered to phones so far, waiting up to `timeout` s for at least one."""
        if timeout > 0:
            self._poll(lambda: bool(self._received), timeout)
        with self._changed:
            return list(self._received)

    def wait_for(self, predicate: Callable[[FakeSms], bool], timeout: float = 10.0) -> FakeSms:
        """The first message delivered to a phone (ever) that matches `predicate`."""
        found: list[FakeSms] = []

        def check() -> bool:
            found[:] = [sms for sms in self._received if predicate(sms)][:1]
            return bool(found)

        if not self._poll(check, timeout):
            raise TimeoutError(f"no matching SMS within {timeout} s; got {self.received()}")
        return found[0]

    async def asend_from_phone(self, phone: str, text: str, coding: Coding = "auto") -> None:
        """`send_from_phone` without blocking the event loop."""
        await asyncio.to_thread(self.send_from_phone, phone, text, coding)

    async def await_for(
        self,
        predicate: Callable[[FakeSms], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - the wait runs in a thread: no cancelling it
    ) -> FakeSms:
        """`wait_for` without blocking the event loop (the app may be serving in it)."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    def _spawn(
        self, name: str, argv: list[str], *, stdin: int = subprocess.DEVNULL
    ) -> subprocess.Popen[bytes]:
        log = open(self.workdir / f"{name}.out", "wb")  # noqa: SIM115 - closed by stop()
        self._logs.append(log)
        piped = name == "fakesmsc"  # its output is parsed, then copied to the log
        proc = subprocess.Popen(
            argv,
            cwd=self.workdir,
            stdin=stdin,
            stdout=subprocess.PIPE if piped else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a ^C in pytest reaches us, and stop() ends them
        )
        self._procs.append(proc)
        return proc

    def _start_fakesmsc(self) -> None:
        assert STDBUF is not None
        with self._changed:
            self._sent, self._parts = 0, {}  # a new fakesmsc counts from 1 again
        argv = [STDBUF, "-i0", str(FAKESMSC), "-H", HOST, "-r", str(self.smsc_port), "-i", "0"]
        self._fakesmsc = proc = self._spawn("fakesmsc", argv, stdin=subprocess.PIPE)
        self._reader = threading.Thread(
            target=self._read, args=(proc, self._logs[-1]), name="fakesmsc-reader", daemon=True
        )
        self._reader.start()

    def _read(self, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            log.write(raw)
            log.flush()
            self._on_line(raw)

    def _on_line(self, raw: bytes) -> None:
        with self._changed:
            if sent := _SENT.search(raw):
                self._sent = int(sent.group(1))
            elif got := _GOT.search(raw):
                self._on_message(got.group(1))
            self._changed.notify_all()

    def _on_message(self, body: bytes) -> None:
        sms = parse_fakesmsc_line(body)
        if sms is None:
            self._continue_text(body)
            return
        concat = concatenation(sms.udh) if sms.kind == "udh" else None
        if concat is None:
            self._received.append(sms)
            return
        reference, total, number = concat
        key = (sms.sender, sms.receiver, reference, total)
        parts = self._parts.setdefault(key, {})
        parts[number] = sms
        if len(parts) == total:
            del self._parts[key]
            self._received.append(join_parts(parts))

    def _continue_text(self, body: bytes) -> None:
        # A line break in a text message: fakesmsc printed the rest as a message of its own.
        if self._received and self._received[-1].kind == "text":
            last = self._received[-1]
            payload = last.payload + b"\n" + body
            self._received[-1] = replace(
                last, payload=payload, text=_decode_payload("text", payload)
            )

    def _write(self, line: bytes) -> None:
        proc = self._fakesmsc
        if proc is None or proc.stdin is None or proc.poll() is not None:
            raise RuntimeError(f"fakesmsc is not running\n{self._log_tails()}")
        proc.stdin.write(line)
        proc.stdin.flush()

    def _poll(self, check: Callable[[], bool], timeout: float) -> bool:
        """Wait until `check()` (called under the lock) holds, nudging fakesmsc meanwhile."""
        deadline = time.monotonic() + timeout
        while True:
            with self._changed:
                if check():
                    return True
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(NUDGE_EVERY, left))
            # An empty line wakes fakesmsc from its 1 s stdin wait to read its socket.
            with self._stdin_lock:
                self._write(b"\n")

    def _answers(self, url: str) -> Callable[[], bool]:
        def check() -> bool:
            try:
                httpx.get(url, timeout=1.0)
            except httpx.TransportError:
                return False
            return True

        return check

    def _connected(self) -> bool:
        try:
            status = httpx.get(self.status_url, timeout=1.0).text
        except httpx.TransportError:
            return False
        smsbox = re.search(r"smsbox:.*on-line", status) is not None
        smsc = f"FAKE:{self.smsc_port} (online" in status
        return smsbox and smsc

    def _until(self, check: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not check():
            dead = [proc.args for proc in self._procs if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                problem = f"exited: {dead}" if dead else f"timed out after {START_TIMEOUT} s"
                raise RuntimeError(f"waiting for {what}: {problem}\n{self._log_tails()}")
            time.sleep(0.05)

    def _log_tails(self) -> str:
        names = ["bearerbox.log", "smsbox.log", "bearerbox.out", "smsbox.out", "fakesmsc.out"]
        return "\n".join(f"--- {name}\n{_tail(self.workdir / name)}" for name in names)
