#!/usr/bin/env python3
"""A local stand-in for the two AWS metadata endpoints credentials come from.

- EC2/SageMaker instance metadata, IMDSv2 only: PUT /latest/api/token with
  X-aws-ec2-metadata-token-ttl-seconds (1..21600) returns a session token;
  GET /latest/meta-data/iam/security-credentials/ (the role name) and
  .../<role> (the credentials) require it in X-aws-ec2-metadata-token and
  are refused with 401 without it, as a real instance set to "IMDSv2
  required" does. A PUT carrying X-Forwarded-For is refused (403), as AWS does.
- ECS/EKS container credentials: GET <--container-path> returns the
  credentials; with --container-token the Authorization header must match.

Every credentials answer issues a new key, numbered n = 1, 2, ...:
  AccessKeyId     ASIAMLPZMETA%08d
  SecretAccessKey mlpzMetaSecret%04d/abc+XYZ0000000000000000000
  Token           mlpzMetaToken%04d followed by 100 "T"
expiring --expiry seconds after the request (short expiries test refresh).

Test endpoints (no token needed): GET /__stats (counters), POST /__reset.
Standard library only. Usage:
  metadata_server.py --port-file FILE [--expiry S] [--role NAME | --no-role]
                     [--container-path /v2/credentials/x] [--container-token T]
                     [--container-status N]
"""
import argparse
import datetime
import json
import os
import secrets
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_TTL = 21600


def key_of(n):
    return {
        "AccessKeyId": f"ASIAMLPZMETA{n:08d}",
        "SecretAccessKey": f"mlpzMetaSecret{n:04d}/abc+XYZ0000000000000000000",
        "Token": f"mlpzMetaToken{n:04d}" + "T" * 100,
    }


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.tokens = {}
            self.issued = 0
            self.stats = {"requests": 0, "token_puts": 0, "role_gets": 0, "imds_credentials": 0,
                          "container_credentials": 0, "refused": 0}

    def count(self, what):
        with self.lock:
            self.stats[what] += 1

    def issue(self):
        with self.lock:
            self.issued += 1
            n = self.issued
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        exp = now + datetime.timedelta(seconds=self.args.expiry)
        creds = key_of(n)
        creds["Expiration"] = exp.strftime("%Y-%m-%dT%H:%M:%SZ")
        return creds, now.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def send(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def refuse(self, status, why):
        self.server.state.count("refused")
        self.send(status, why)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def token_ok(self):
        tok = self.headers.get("X-aws-ec2-metadata-token")
        st = self.server.state
        with st.lock:
            exp = st.tokens.get(tok) if tok else None
        return exp is not None and exp > datetime.datetime.now().timestamp()

    def do_PUT(self):
        st = self.server.state
        st.count("requests")
        self.read_body()
        if self.path != "/latest/api/token":
            return self.refuse(404, "Not Found")
        if self.headers.get("X-Forwarded-For"):
            return self.refuse(403, "Forbidden")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= MAX_TTL:
            return self.refuse(400, "Bad Request")
        tok = secrets.token_urlsafe(32)
        with st.lock:
            st.tokens[tok] = datetime.datetime.now().timestamp() + int(ttl)
        st.count("token_puts")
        self.send(200, tok)

    def do_GET(self):
        st = self.server.state
        args = st.args
        path = self.path.partition("?")[0]
        if path == "/__stats":
            with st.lock:
                body = json.dumps(st.stats)
            return self.send(200, body, "application/json")
        st.count("requests")
        if args.container_path and path == args.container_path:
            if args.container_token and self.headers.get("Authorization") != args.container_token:
                return self.refuse(403, json.dumps({"message": "bad authorization token"}))
            if args.container_status != 200:
                return self.refuse(args.container_status, json.dumps({"message": "induced failure"}))
            creds, _ = st.issue()
            st.count("container_credentials")
            creds["RoleArn"] = f"arn:aws:iam::123456789012:role/{args.role}"
            return self.send(200, json.dumps(creds), "application/json")
        prefix = "/latest/meta-data/iam/security-credentials/"
        if not path.startswith(prefix):
            return self.refuse(404, "Not Found")
        if not self.token_ok():
            return self.refuse(401, "Unauthorized")
        rest = path[len(prefix):]
        if args.no_role:
            return self.refuse(404, "Not Found")
        if rest == "":
            st.count("role_gets")
            return self.send(200, args.role)
        if rest != args.role:
            return self.refuse(404, "Not Found")
        creds, now = st.issue()
        st.count("imds_credentials")
        creds.update({"Code": "Success", "LastUpdated": now, "Type": "AWS-HMAC"})
        self.send(200, json.dumps(creds), "text/plain")

    def do_POST(self):
        self.read_body()
        if self.path == "/__reset":
            self.server.state.reset()
            return self.send(200, "{}", "application/json")
        self.refuse(404, "Not Found")


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--expiry", type=int, default=3600, help="seconds until issued keys expire")
    ap.add_argument("--role", default="mlpz-test-role")
    ap.add_argument("--no-role", action="store_true", help="no IAM role attached (404)")
    ap.add_argument("--container-path", help="path serving container credentials")
    ap.add_argument("--container-token", help="required Authorization header value")
    ap.add_argument("--container-status", type=int, default=200, help="answer this status instead")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = State(args)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{server.server_address[1]}\n")
        os.replace(tmp, args.port_file)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
