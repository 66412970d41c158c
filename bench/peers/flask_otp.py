"""A Flask + Redis OTP service, the design of OTP-Pi's own stack, written
from its description only, as the peer bench/peers.sh measures otppi against.

An OTP is 6 random digits (secrets); Redis keeps its SHA-512 hex digest,
never the OTP, for 3 minutes (SETEX). One key per receiver and reference.
The request and reply bodies are otppi's, so that the same wrk script
drives both. HTTP Basic auth is checked against one user given in the
environment, with a constant-time comparison (no slow hash per request:
otppi caches a checked password too).

    OTPPI_PEER_USER, OTPPI_PEER_PASSWORD   the API user
    OTPPI_PEER_REDIS_PORT                   Redis on 127.0.0.1 (default 6379)

Run it with any WSGI server, e.g. `gunicorn bench.peers.flask_otp:app`.
Sending the SMS is left out: the benchmark measures verification.
"""
import base64
import hashlib
import hmac
import os
import secrets

import redis
from flask import Flask, jsonify, request

app = Flask(__name__)
store = redis.Redis(host="127.0.0.1", port=int(os.environ.get("OTPPI_PEER_REDIS_PORT", "6379")))
expected_auth = "Basic " + base64.b64encode(
    (os.environ["OTPPI_PEER_USER"] + ":" + os.environ["OTPPI_PEER_PASSWORD"]).encode()).decode()
TTL_S = 180


def reply(code, message, http_status, data=None):
    return jsonify({"response_code": code, "message": message, "data": data or {}}), http_status


def fields():
    """(receiver, reference, otp) from an otppi-style body, or None when the request is refused."""
    if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected_auth.encode()):
        return None
    data = (request.get_json(silent=True) or {}).get("data") or {}
    return str(data.get("receiver", "")), str(data.get("reference", "")), str(data.get("otp", ""))


def key(receiver, reference):
    return "otp:" + receiver + ":" + reference


@app.post("/api/otp/request")
def request_otp():
    f = fields()
    if f is None:
        return reply("1100", "unauthorized", 401)
    otp = "%06d" % secrets.randbelow(10**6)
    store.setex(key(f[0], f[1]), TTL_S, hashlib.sha512(otp.encode()).hexdigest())
    return reply("0000", "OTP issued", 200, {"reference": f[1]})


@app.post("/api/otp")
def verify_otp():
    f = fields()
    if f is None:
        return reply("1100", "unauthorized", 401)
    stored = store.get(key(f[0], f[1]))
    if stored is None:
        return reply("1203", "unknown or expired OTP", 200)
    if not hmac.compare_digest(stored, hashlib.sha512(f[2].encode()).hexdigest().encode()):
        return reply("1202", "wrong OTP", 200)
    store.delete(key(f[0], f[1]))
    return reply("0000", "OTP verified", 200, {"reference": f[1]})
