"""The `warm` fuzz target (fuzz/targets.py) in every test run: generated registry answers —
status, headers and body, well-formed and hostile — through http.client, the registry client
and one reference's warming, never an exception (issue 21). The `ci` hypothesis profile
(tests/conftest.py) keeps it derandomized and bounded; `python fuzz/fuzz.py warm` explores."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from fuzz import targets

_INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
_INDEX = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": _INDEX_TYPE,
        "manifests": [{"digest": "sha256:" + "c" * 64, "mediaType": _MANIFEST_TYPE}],
    }
).encode()
_BODIES = [
    targets._IMAGE,
    _INDEX,
    b"",
    b"[" * 200_000,
    b'{"manifests": 5}',
    b'{"schemaVersion": 2, "mediaType": "' + _INDEX_TYPE.encode() + b'", "manifests": [5]}',
    b'{"errors": {"a": 1}}',
    b'{"errors": [{"code": ["x"], "message": {"m": 1}}]}',
    b'{"errors": []}',
    b'{"token": "abc\\r\\nX-Injected: 1"}',
    b'{"token": 5}',
    b"\xff\xfe\x00",
    b"null",
]
_STATUSES = ["200 OK", "401 Unauthorized", "403 Forbidden", "404 Not Found", "429 Slow down",
             "500 Oops", "302 Found", "100 Continue", "999 What", "200", "OK 200", ""]  # fmt: skip
_CHALLENGES = [
    f'Bearer realm="{targets.WARM_BASE}/token",service="s",scope="repository:quay/a/b:pull"',
    'Bearer realm="https://elsewhere.example/token"',
    f'Bearer realm="{targets.WARM_BASE}/t\\r\\noken"',
    f'Bearer realm="{targets.WARM_BASE}:99999/token"',
    "Basic realm=x",
    "Bearer",
]
_TYPES = [_MANIFEST_TYPE, _INDEX_TYPE, "application/json", "text/html", "", ";;", "A" * 300]


@st.composite
def _answer(draw: st.DrawFn) -> bytes:
    body = draw(st.one_of(st.sampled_from(_BODIES), st.binary(max_size=64)))
    if draw(st.booleans()):  # cut short or altered after the digest was taken
        cut = draw(st.integers(0, len(body)))
        digest_of, body = body, body[:cut] + draw(st.binary(max_size=3))
    else:
        digest_of = body
    headers: list[tuple[str, str]] = []
    digest = draw(st.sampled_from(["right", "sha512", "junk", "none"]))
    if digest != "none":
        value = {
            "right": "sha256:" + hashlib.sha256(digest_of).hexdigest(),
            "sha512": "sha512:" + hashlib.sha512(digest_of).hexdigest(),
            "junk": draw(st.text(max_size=20)),
        }[digest]
        headers.append(("Docker-Content-Digest", value))
    if draw(st.booleans()):
        headers.append(("Content-Type", draw(st.sampled_from(_TYPES))))
    if draw(st.booleans()):
        headers.append(("WWW-Authenticate", draw(st.sampled_from(_CHALLENGES))))
    if draw(st.booleans()):
        headers.append(("Retry-After", draw(st.sampled_from(["0", "nan", "-1", "1e400", "x"]))))
    length = draw(st.sampled_from(["right", "short", "long", "none", "chunked"]))
    if length == "chunked":
        headers.append(("Transfer-Encoding", "chunked"))
        chunk = draw(st.sampled_from([f"{len(body):x}", "zz", "-1", "fffffffffff"]))
        body = chunk.encode() + b"\r\n" + body + b"\r\n0\r\n\r\n"
    elif length != "none":
        size = len(body) + {"right": 0, "short": -1, "long": 5}[length]
        headers.append(("Content-Length", str(max(size, 0))))
    head = "".join(f"{k}: {v}\r\n" for k, v in headers)
    raw = f"HTTP/1.1 {draw(st.sampled_from(_STATUSES))}\r\n{head}\r\n"
    return raw.encode("utf-8", "surrogateescape") + body


_ANSWERS = st.one_of(
    st.lists(_answer(), min_size=1, max_size=3).map(targets.WARM_NEXT.join),
    st.sampled_from(targets.WARM_SEEDS),
    st.builds(
        lambda seed, cut, junk: seed[:cut] + junk + seed[cut:],
        st.sampled_from(targets.WARM_SEEDS),
        st.integers(0, 400),
        st.binary(max_size=16),
    ),
    st.binary(max_size=256),
)


@given(_ANSWERS)
def test_warm_turns_any_answer_into_a_status(data: bytes) -> None:
    targets.warm_target(data)


def test_the_answers_issue_21_found_are_each_a_status() -> None:
    for body in _BODIES:
        targets.warm_target(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        targets.warm_target(b"HTTP/1.1 404 X\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
