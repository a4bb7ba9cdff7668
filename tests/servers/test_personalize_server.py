#!/usr/bin/env python3
"""Self-test of tests/servers/personalize_server.py, driven by boto3 (the
reference client) and by raw http.client/socket requests where boto3 would
hide what the wire carries. Prints `ok - name` / `not ok - name: why` and
exits non-zero on any failure. Every server it starts is stopped at the end."""
import csv
import datetime
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from unittest import mock

import boto3
import botocore.auth
import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.validate import ParamValidator

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "personalize_server.py")
DATA = os.environ.get("MLPZ_DATA") or os.path.join(HERE, "..", "..", "..", "shared", "datasets", "ml-latest-small")
AK = "AKIAMLPZTEST00000001"
SK = "mlpz/Test+Secret/Key0000000000000000000000"
TOKEN = "mlpzTestSessionToken//Zm9vYmFy+0123456789"
REGION = "us-east-1"
ARN = "arn:aws:personalize:us-east-1:123456789012:campaign/"
ACTIONS = ARN + "next-best-action"
TIMEOUT = 10

failures = 0
passed = 0


def ok(name, cond=True, why=""):
    global failures, passed
    if cond:
        passed += 1
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"not ok - {name}: {why}".replace("\n", " "))
    sys.stdout.flush()
    return cond


def check(name, fn):
    """Runs one check; an exception is a failure of that check only."""
    try:
        fn()
    except AssertionError as e:
        ok(name, False, str(e) or "assertion failed")
    except Exception as e:  # the check itself broke: report, go on
        ok(name, False, f"{type(e).__name__}: {e}")
    else:
        ok(name)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workdir, name, *extra):
        self.dir = workdir
        self.port_file = os.path.join(workdir, f"{name}.port")
        self.log = os.path.join(workdir, f"{name}.log")
        self.err = open(os.path.join(workdir, f"{name}.stderr"), "w+")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", self.port_file,
                                      "--log", self.log, *extra],
                                     stdout=self.err, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 60
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError(f"server {name} did not start: {self.output()[-2000:]}")
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.err.close()
        return self.proc.returncode

    def output(self):
        with open(self.err.name) as f:
            return f.read()

    def client(self, service, ak=AK, sk=SK, token=None, **config):
        config.setdefault("retries", {"total_max_attempts": 1, "mode": "standard"})
        config.setdefault("connect_timeout", 5)
        config.setdefault("read_timeout", TIMEOUT)
        return boto3.client(service, endpoint_url=self.url, region_name=REGION, aws_access_key_id=ak,
                            aws_secret_access_key=sk, aws_session_token=token, config=Config(**config))

    def internal(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None)
            resp = conn.getresponse()
            return resp.status, json.loads(resp.read())
        finally:
            conn.close()

    def faults(self, key, *faults):
        status, answer = self.internal("POST", "/__faults", {"path_or_op": key, "faults": list(faults)})
        assert status == 200, answer
        return answer

    def log_entries(self):
        return self.internal("GET", "/__log")[1]


def sign(port, method, path, body=b"", headers=None, ak=AK, sk=SK, token=None, service="personalize",
         region=REGION, when=None):
    """Headers for a request signed by botocore, as an SDK would send them."""
    hdrs = {"Host": f"127.0.0.1:{port}"}
    hdrs.update(headers or {})
    req = AWSRequest(method=method, url=f"http://127.0.0.1:{port}{path}", data=body, headers=hdrs)
    signer = SigV4Auth(Credentials(ak, sk, token), service, region)
    if when is None:
        signer.add_auth(req)
    else:
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=when):
            signer.add_auth(req)
    return dict(req.headers.items())


def runtime_headers():
    return {"Content-Type": "application/json"}


def control_headers(op):
    return {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AmazonPersonalize.{op}"}


def raw(port, method, path, body=b"", headers=None, conn=None):
    """Sends exactly these bytes; returns (status, headers, body)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        if own:
            conn.close()


def call(port, op, params, conn=None, **kw):
    body = json.dumps(params).encode()
    if op in ("GetRecommendations", "GetPersonalizedRanking", "GetActionRecommendations"):
        path = {"GetRecommendations": "/recommendations", "GetPersonalizedRanking": "/personalize-ranking",
                "GetActionRecommendations": "/action-recommendations"}[op]
        hdrs = runtime_headers()
    else:
        path, hdrs = "/", control_headers(op)
    return raw(port, "POST", path, body, sign(port, "POST", path, body, hdrs, **kw), conn)


def error_of(exc):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def expect_error(fn, code, status=None):
    try:
        fn()
    except ClientError as e:
        got = error_of(e)
        assert got[0] == code, f"expected {code}, got {got} {e}"
        if status is not None:
            assert got[1] == status, f"expected HTTP {status}, got {got[1]}"
        return e
    raise AssertionError(f"expected {code}, the call succeeded")


# ------------------------------------------------------------------ independent reading of the data

def read_ratings():
    by_user, count = {}, Counter()
    with open(os.path.join(DATA, "ratings.csv"), newline="") as f:
        for r in csv.DictReader(f):
            by_user.setdefault(r["userId"], set()).add(r["movieId"])
            count[r["movieId"]] += 1
    with open(os.path.join(DATA, "movies.csv"), newline="", encoding="utf-8") as f:
        movies = {r["movieId"] for r in csv.DictReader(f)}
    return by_user, count, movies


def validate_output(op, obj, service):
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(op).output_shape
    report = ParamValidator().validate(obj, shape)
    assert not report.has_errors(), report.generate_report()


# ------------------------------------------------------------------ checks

def runtime_checks(srv, ratings):
    by_user, count, movies = ratings
    rt = srv.client("personalize-runtime")
    popular = sorted(count, key=lambda m: (-count[m], int(m)))

    def user_recs():
        r = rt.get_recommendations(campaignArn=ARN + "user-personalization", userId="1")
        items = r["itemList"]
        assert len(items) == 25, f"default numResults: {len(items)} items"
        assert r["recommendationId"].startswith("RID-"), r["recommendationId"]
        ids = [i["itemId"] for i in items]
        assert all(i in movies for i in ids), "an id is not a MovieLens movie"
        assert not set(ids) & by_user["1"], "recommends movies user 1 already rated"
        scores = [i["score"] for i in items]
        assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores), scores
        assert len(set(ids)) == len(ids), "duplicates"
        again = rt.get_recommendations(campaignArn=ARN + "user-personalization", userId="1", numResults=7)
        assert [i["itemId"] for i in again["itemList"]] == ids[:7], "not deterministic / numResults ignored"
    check("GetRecommendations: 25 real unseen movie ids, descending scores, deterministic, numResults", user_recs)

    def cold_user():
        r = rt.get_recommendations(campaignArn=ARN + "user-personalization", userId="no-such-user", numResults=10)
        assert [i["itemId"] for i in r["itemList"]] == popular[:10], (r["itemList"], popular[:10])
    check("GetRecommendations: unknown user gets the 10 most rated movies (cross-checked with csv)", cold_user)

    def sims():
        r = rt.get_recommendations(campaignArn=ARN + "sims", itemId="1", numResults=12)
        items = r["itemList"]
        assert len(items) == 12, len(items)
        assert all("score" not in i for i in items), "similar items must have no score"
        ids = [i["itemId"] for i in items]
        assert "1" not in ids and all(i in movies for i in ids), ids
        fans = {u for u, s in by_user.items() if "1" in s}
        co = sum(1 for u in fans if ids[0] in by_user[u])
        assert co >= 2, f"top similar item {ids[0]} co-rated by only {co} of item 1's raters"
    check("GetRecommendations (sims): no scores, numResults, co-rated items", sims)

    def ranking():
        inputs = ["1", "2", "zz-unknown", "318", "3", "yy-unknown", "296"]
        r = rt.get_personalized_ranking(campaignArn=ARN + "rerank", userId="1", inputList=inputs)
        out = r["personalizedRanking"]
        ids = [i["itemId"] for i in out]
        assert sorted(ids) == sorted(inputs), ids
        assert ids[-2:] == ["zz-unknown", "yy-unknown"], ids
        assert all("score" not in i for i in out[-2:]), out[-2:]
        scores = [i["score"] for i in out[:-2]]
        assert abs(sum(scores) - 1.0) < 1e-6, sum(scores)
        assert scores == sorted(scores, reverse=True), scores
    check("GetPersonalizedRanking: permutation, unknown last without score, scores sum to 1", ranking)

    def actions():
        r = rt.get_action_recommendations(campaignArn=ACTIONS, userId="1", numResults=3)
        acts = r["actionList"]
        assert len(acts) == 3 and all(0 < a["score"] <= 1 for a in acts), acts
    check("GetActionRecommendations: actions with scores", actions)

    check("GetActionRecommendations on a non-actions campaign: InvalidInputException",
          lambda: expect_error(lambda: rt.get_action_recommendations(campaignArn=ARN + "sims", userId="1"),
                               "InvalidInputException", 400))
    check("GetRecommendations on a ranking campaign: InvalidInputException",
          lambda: expect_error(lambda: rt.get_recommendations(campaignArn=ARN + "rerank", userId="1"),
                               "InvalidInputException", 400))
    check("unknown campaign: ResourceNotFoundException 404",
          lambda: expect_error(lambda: rt.get_recommendations(campaignArn=ARN + "nope", userId="1"),
                               "ResourceNotFoundException", 404))


def validation_checks(srv):
    loose = srv.client("personalize-runtime", parameter_validation=False)
    cp = srv.client("personalize", parameter_validation=False)

    def num_string():
        e = expect_error(lambda: loose.get_recommendations(campaignArn=ARN + "user-personalization",
                                                           userId="1", numResults="5"), "ValidationException", 400)
        assert "numResults" in e.response["Error"]["Message"], e.response["Error"]["Message"]
    check("numResults as a string: ValidationException naming numResults", num_string)
    check("GetRecommendations without campaignArn: ValidationException",
          lambda: expect_error(lambda: loose.get_recommendations(userId="1"), "ValidationException", 400))
    check("GetPersonalizedRanking without campaignArn: ValidationException",
          lambda: expect_error(lambda: loose.get_personalized_ranking(userId="1", inputList=["1"]),
                               "ValidationException", 400))
    check("malformed campaign ARN: ValidationException",
          lambda: expect_error(lambda: loose.get_recommendations(campaignArn="campaign/x", userId="1"),
                               "ValidationException", 400))
    check("maxResults 0 (below the model's min): ValidationException",
          lambda: expect_error(lambda: cp.list_campaigns(maxResults=0), "ValidationException", 400))
    check("maxResults 101 (above the model's max): ValidationException",
          lambda: expect_error(lambda: cp.list_campaigns(maxResults=101), "ValidationException", 400))

    def unknown_member():
        status, _, body = call(srv.port, "GetRecommendations",
                               {"campaignArn": ARN + "sims", "itemId": "1", "numresults": 3})
        doc = json.loads(body)
        assert status == 400 and doc["__type"] == "ValidationException", (status, doc)
        assert "numresults" in doc["message"], doc
    check("misspelt member (numresults): ValidationException", unknown_member)

    def bad_json():
        body = b'{"campaignArn": '
        hdrs = sign(srv.port, "POST", "/recommendations", body, runtime_headers())
        status, h, data = raw(srv.port, "POST", "/recommendations", body, hdrs)
        doc = json.loads(data)
        assert status == 400 and doc["__type"] == "SerializationException", (status, doc)
        assert h.get("x-amzn-RequestId"), "no x-amzn-RequestId"
    check("malformed JSON: SerializationException with x-amzn-RequestId", bad_json)

    def unknown_op():
        status, _, data = call(srv.port, "DeleteEverything", {})
        assert status == 400 and json.loads(data)["__type"] == "UnknownOperationException", (status, data)
    check("unknown control-plane target: UnknownOperationException", unknown_op)

    def wrong_content_type():
        body = b"{}"
        hdrs = sign(srv.port, "POST", "/", body, {"Content-Type": "application/json",
                                                  "X-Amz-Target": "AmazonPersonalize.ListCampaigns"})
        status, _, data = raw(srv.port, "POST", "/", body, hdrs)
        assert status == 400 and json.loads(data)["__type"] == "SerializationException", (status, data)
    check("control plane with Content-Type application/json: refused", wrong_content_type)


def signature_checks(srv):
    def wrong_secret():
        rt = srv.client("personalize-runtime", sk=SK[:-1] + "X")
        e = expect_error(lambda: rt.get_recommendations(campaignArn=ARN + "sims", itemId="1"),
                         "InvalidSignatureException", 403)
        msg = e.response["Error"]["Message"]
        assert msg.startswith("The request signature we calculated does not match"), msg
        assert "Canonical String" in msg and SK not in msg, msg
    check("wrong secret: 403 InvalidSignatureException with the canonical string", wrong_secret)
    check("unknown access key: UnrecognizedClientException",
          lambda: expect_error(lambda: srv.client("personalize", ak="AKIAUNKNOWN000000000").list_campaigns(),
                               "UnrecognizedClientException", 403))
    check("session token sent to a server without one: UnrecognizedClientException",
          lambda: expect_error(lambda: srv.client("personalize", token=TOKEN).list_campaigns(),
                               "UnrecognizedClientException", 403))

    def tampered_body():
        body = json.dumps({"campaignArn": ARN + "sims", "itemId": "1"}).encode()
        hdrs = sign(srv.port, "POST", "/recommendations", body, runtime_headers())
        status, _, data = raw(srv.port, "POST", "/recommendations", body.replace(b'"1"', b'"2"'), hdrs)
        assert status == 403 and json.loads(data)["__type"] == "InvalidSignatureException", (status, data)
    check("body changed after signing: InvalidSignatureException", tampered_body)

    def tampered_header():
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"))
        hdrs["X-Amz-Target"] = "AmazonPersonalize.DescribeCampaign"
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        assert status == 403 and json.loads(data)["__type"] == "InvalidSignatureException", (status, data)
    check("signed header changed after signing: InvalidSignatureException", tampered_header)

    def content_sha256():
        body = json.dumps({"campaignArn": ARN + "sims", "itemId": "1"}).encode()
        good = hashlib.sha256(body).hexdigest()
        for value, want in ((good, 200), (hashlib.sha256(b"other").hexdigest(), 403)):
            hdrs = dict(runtime_headers(), **{"X-Amz-Content-SHA256": value})
            status, _, data = raw(srv.port, "POST", "/recommendations", body,
                                  sign(srv.port, "POST", "/recommendations", body, hdrs))
            assert status == want, (value == good, status, data)
    check("signed X-Amz-Content-SHA256: must equal the body's hash", content_sha256)

    def unsigned_extra_header():
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"))
        hdrs["X-Unsigned-Extra"] = "anything"
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        assert status == 200, (status, data)
    check("a header outside SignedHeaders does not matter", unsigned_extra_header)

    def signs_everything():
        class AllHeaders(SigV4Auth):
            def headers_to_sign(self, request):
                lowered = HTTPHeaders()
                for k, v in request.headers.items():
                    lowered[k.lower()] = v
                return lowered
        body = json.dumps({"campaignArn": ARN + "sims", "itemId": "1"}).encode()
        hdrs = {"Host": f"127.0.0.1:{srv.port}", "User-Agent": "mlpz-lua/test", "X-Amz-Date": "",
                "Content-Type": "application/json", "Content-Length": str(len(body))}
        req = AWSRequest(method="POST", url=f"{srv.url}/recommendations", data=body, headers=hdrs)
        signer = AllHeaders(Credentials(AK, SK), "personalize", REGION)
        req.context["timestamp"] = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        req.headers.replace_header("X-Amz-Date", req.context["timestamp"])
        sts = signer.string_to_sign(req, signer.canonical_request(req))
        signer._inject_signature_to_request(req, signer.signature(sts, req))
        assert "user-agent" in req.headers["Authorization"], req.headers["Authorization"]
        status, _, data = raw(srv.port, "POST", "/recommendations", body, dict(req.headers.items()))
        assert status == 200, (status, data)
    check("User-Agent and Content-Length in SignedHeaders are honoured (botocore would drop User-Agent)",
          signs_everything)

    def expired():
        when = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"), when=when)
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        doc = json.loads(data)
        assert status == 403 and doc["__type"] == "InvalidSignatureException", (status, doc)
        assert doc["message"].startswith("Signature expired"), doc
        future = datetime.datetime.utcnow() + datetime.timedelta(minutes=10)
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"), when=future)
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        assert status == 403 and json.loads(data)["message"].startswith("Signature not yet current"), data
        near = datetime.datetime.utcnow() - datetime.timedelta(minutes=4)
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"), when=near)
        assert raw(srv.port, "POST", "/", b"{}", hdrs)[0] == 200, "4 minutes of skew must pass"
    check("X-Amz-Date 10 min old/ahead: Signature expired / not yet current; 4 min passes", expired)

    def wrong_scope():
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"), service="execute-api")
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        assert status == 403 and "correct service" in json.loads(data)["message"], data
        hdrs = sign(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"), region="eu-west-1")
        status, _, data = raw(srv.port, "POST", "/", b"{}", hdrs)
        assert status == 403 and "valid region" in json.loads(data)["message"], data
    check("credential scope with another service or region: refused", wrong_scope)

    def missing_auth():
        status, _, data = raw(srv.port, "POST", "/", b"{}", control_headers("ListCampaigns"))
        assert status == 403 and json.loads(data)["__type"] == "MissingAuthenticationTokenException", data
    check("no Authorization: MissingAuthenticationTokenException", missing_auth)

    def presigned():
        hdrs = {"Host": f"127.0.0.1:{srv.port}"}
        hdrs.update(control_headers("ListCampaigns"))
        req = AWSRequest(method="POST", url=f"{srv.url}/", data=b"", headers=hdrs)
        SigV4QueryAuth(Credentials(AK, SK), "personalize", REGION, expires=60).add_auth(req)
        path = req.url[len(srv.url):]
        status, _, data = raw(srv.port, "POST", path, b"", hdrs)
        assert status == 200 and json.loads(data)["campaigns"], (status, data)
        bad = re.sub(r"X-Amz-Signature=([0-9a-f])", lambda m: "X-Amz-Signature=" + "0123456789abcdef"[
            (int(m.group(1), 16) + 1) % 16], path)
        status, _, data = raw(srv.port, "POST", bad, b"", hdrs)
        assert status == 403 and json.loads(data)["__type"] == "InvalidSignatureException", (status, data)
        old = datetime.datetime.utcnow() - datetime.timedelta(seconds=120)
        req = AWSRequest(method="POST", url=f"{srv.url}/", data=b"", headers=hdrs)
        with mock.patch.object(botocore.auth, "get_current_datetime", return_value=old):
            SigV4QueryAuth(Credentials(AK, SK), "personalize", REGION, expires=60).add_auth(req)
        status, _, data = raw(srv.port, "POST", req.url[len(srv.url):], b"", hdrs)
        assert status == 403 and json.loads(data)["message"].startswith("Signature expired"), (status, data)
    def curl_signer():
        """curl's own SigV4 code, independent of botocore, must be accepted."""
        curl = shutil.which("curl")
        assert curl is not None, "curl is not installed: run make deps"
        params = {"campaignArn": ARN + "sims", "itemId": "1", "numResults": 4}
        answers = {}
        for secret in (SK, SK + "x"):
            out = subprocess.run([curl, "-s", "-m", str(TIMEOUT), "-w", "\n%{http_code}", "--aws-sigv4",
                                  f"aws:amz:{REGION}:personalize", "--user", f"{AK}:{secret}", "-H",
                                  "Content-Type: application/json", "--data-binary", json.dumps(params),
                                  f"{srv.url}/recommendations"], capture_output=True, text=True,
                                 timeout=TIMEOUT + 5)
            doc, status = out.stdout.rsplit("\n", 1)
            answers[secret] = (int(status), json.loads(doc))
        status, doc = answers[SK]
        assert status == 200, (status, doc)
        live = json.loads(call(srv.port, "GetRecommendations", params)[2])
        assert doc["itemList"] == live["itemList"], (doc, live)
        status, doc = answers[SK + "x"]
        assert status == 403 and doc["__type"] == "InvalidSignatureException", (status, doc)
    check("curl --aws-sigv4 (an independent signer): right secret 200, wrong secret 403", curl_signer)

    check("presigned (query) SigV4: valid passes; altered signature or past X-Amz-Expires refused", presigned)


def token_checks(workdir, servers):
    srv = Server(workdir, "token", "--session-token", TOKEN)
    servers.append(srv)

    def with_token():
        assert srv.client("personalize", token=TOKEN).list_campaigns()["campaigns"]
        expect_error(lambda: srv.client("personalize").list_campaigns(), "UnrecognizedClientException", 403)
        expect_error(lambda: srv.client("personalize", token=TOKEN + "x").list_campaigns(),
                     "UnrecognizedClientException", 403)
    check("--session-token: right token passes, missing or wrong: UnrecognizedClientException", with_token)

    def default_campaigns():
        names = [c["name"] for c in srv.client("personalize", token=TOKEN).list_campaigns()["campaigns"]]
        assert names == ["user-personalization", "sims", "rerank"], names
    check("default campaigns: user-personalization, sims, rerank", default_campaigns)
    expired = Server(workdir, "expired", "--session-token", TOKEN, "--expired-token")
    servers.append(expired)
    check("--expired-token: ExpiredTokenException",
          lambda: expect_error(lambda: expired.client("personalize", token=TOKEN).list_campaigns(),
                               "ExpiredTokenException", 403))
    skewed = Server(workdir, "skewed", "--clock-skew", "600")
    servers.append(skewed)

    def clock():
        e = expect_error(lambda: skewed.client("personalize").list_campaigns(), "InvalidSignatureException", 403)
        assert e.response["Error"]["Message"].startswith("Signature expired"), e.response["Error"]
    check("--clock-skew 600: a client on the real clock gets 'Signature expired'", clock)
    for s in (srv, expired):
        for path in (s.log, s.err.name):
            with open(path) as f:
                text = f.read()
            ok(f"{os.path.basename(path)} holds no session token or secret", TOKEN not in text and SK not in text,
               "secret material found")


def control_checks(srv):
    cp = srv.client("personalize")

    def describe():
        c = cp.describe_campaign(campaignArn=ARN + "user-personalization")["campaign"]
        assert c["status"] == "ACTIVE" and c["campaignArn"] == ARN + "user-personalization", c
        sv = cp.describe_solution_version(solutionVersionArn=c["solutionVersionArn"])["solutionVersion"]
        assert sv["recipeArn"].endswith("aws-user-personalization") and sv["status"] == "ACTIVE", sv
        m = cp.get_solution_metrics(solutionVersionArn=c["solutionVersionArn"])["metrics"]
        keys = {"coverage", "mean_reciprocal_rank_at_25", "precision_at_5", "precision_at_10", "precision_at_25",
                "normalized_discounted_cumulative_gain_at_5", "normalized_discounted_cumulative_gain_at_10",
                "normalized_discounted_cumulative_gain_at_25"}
        assert set(m) == keys and all(0 < v < 1 for v in m.values()), m
    check("DescribeCampaign -> DescribeSolutionVersion -> GetSolutionMetrics", describe)
    check("DescribeSolutionVersion of an unknown ARN: ResourceNotFoundException",
          lambda: expect_error(lambda: cp.describe_solution_version(
              solutionVersionArn="arn:aws:personalize:us-east-1:123456789012:solution/x/1"),
              "ResourceNotFoundException", 404))

    def shapes():
        c = json.loads(call(srv.port, "DescribeCampaign", {"campaignArn": ARN + "sims"})[2])
        sv = c["campaign"]["solutionVersionArn"]
        cases = [
            ("personalize-runtime", "GetRecommendations",
             {"campaignArn": ARN + "user-personalization", "userId": "5", "numResults": 3}),
            ("personalize-runtime", "GetRecommendations", {"campaignArn": ARN + "sims", "itemId": "1"}),
            ("personalize-runtime", "GetPersonalizedRanking",
             {"campaignArn": ARN + "rerank", "userId": "5", "inputList": ["1", "2", "x"]}),
            ("personalize-runtime", "GetActionRecommendations", {"campaignArn": ACTIONS, "userId": "5"}),
            ("personalize", "ListCampaigns", {"maxResults": 2}),
            ("personalize", "DescribeCampaign", {"campaignArn": ARN + "sims"}),
            ("personalize", "DescribeSolutionVersion", {"solutionVersionArn": sv}),
            ("personalize", "GetSolutionMetrics", {"solutionVersionArn": sv}),
            ("personalize", "ListBatchInferenceJobs", {}),
        ]
        for service, op, params in cases:
            status, _, body = call(srv.port, op, params)
            assert status == 200, (op, status, body)
            validate_output(op, json.loads(body), service)
    check("raw responses of every operation validate against botocore's output shapes", shapes)


def pagination_checks(workdir, servers):
    arns = [f"arn:aws:personalize:us-east-1:123456789012:campaign/c{k}" for k in range(7)]
    srv = Server(workdir, "pages", *[a for arn in arns for a in ("--campaign", arn)])
    servers.append(srv)
    cp = srv.client("personalize")

    def paginate():
        pages = list(cp.get_paginator("list_campaigns").paginate(PaginationConfig={"PageSize": 3}))
        assert [len(p["campaigns"]) for p in pages] == [3, 3, 1], [len(p["campaigns"]) for p in pages]
        got = [c["campaignArn"] for p in pages for c in p["campaigns"]]
        assert got == arns, got
        assert "nextToken" not in pages[-1], "last page has a nextToken"
    check("ListCampaigns paginator, 7 campaigns, maxResults 3: pages 3+3+1, every campaign once", paginate)
    check("ListCampaigns with a forged nextToken: InvalidNextTokenException",
          lambda: expect_error(lambda: cp.list_campaigns(nextToken="garbage!"), "InvalidNextTokenException", 400))


def batch_checks(srv, s3_url, ratings):
    by_user, _, _ = ratings
    cp = srv.client("personalize")
    rt = srv.client("personalize-runtime")
    s3 = boto3.client("s3", endpoint_url=s3_url, region_name=REGION, aws_access_key_id=AK,
                      aws_secret_access_key=SK, config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="mlpz-batch")
    users = ["1", "414", "no-such-user"]
    s3.put_object(Bucket="mlpz-batch", Key="in/users.json",
                  Body="".join(json.dumps({"userId": u}) + "\n" for u in users).encode())
    s3.put_object(Bucket="mlpz-batch", Key="in/items.json", Body=b'{"itemId": "1"}\n{"itemId": "260"}\n')
    camp = cp.describe_campaign(campaignArn=ARN + "user-personalization")["campaign"]
    sims = cp.describe_campaign(campaignArn=ARN + "sims")["campaign"]
    role = "arn:aws:iam::123456789012:role/PersonalizeRole"

    def create(name, sv, key, n=10):
        return cp.create_batch_inference_job(
            jobName=name, solutionVersionArn=sv, numResults=n, roleArn=role,
            jobInput={"s3DataSource": {"path": f"s3://mlpz-batch/{key}"}},
            jobOutput={"s3DataDestination": {"path": f"s3://mlpz-batch/out/{name}/"}})["batchInferenceJobArn"]

    def lifecycle():
        arn = create("users-job", camp["solutionVersionArn"], "in/users.json")
        seen = [cp.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]["status"]
                for _ in range(4)]
        assert seen == ["PENDING", "IN_PROGRESS", "ACTIVE", "ACTIVE"], seen
        out = s3.get_object(Bucket="mlpz-batch", Key="out/users-job/users.json.out")["Body"].read().decode()
        lines = [json.loads(x) for x in out.splitlines()]
        assert [x["input"]["userId"] for x in lines] == users, lines
        for x in lines:
            assert x["error"] is None and len(x["output"]["recommendedItems"]) == 10, x
            assert len(x["output"]["scores"]) == 10, x
            live = rt.get_recommendations(campaignArn=ARN + "user-personalization", userId=x["input"]["userId"],
                                          numResults=10)
            assert x["output"]["recommendedItems"] == [i["itemId"] for i in live["itemList"]], "batch != live"
        assert not set(lines[0]["output"]["recommendedItems"]) & by_user["1"], "seen items in batch output"
    check("batch job: PENDING -> IN_PROGRESS -> ACTIVE, output file in Personalize's format = live answers",
          lifecycle)

    def sims_job():
        arn = create("items-job", sims["solutionVersionArn"], "in/items.json", n=5)
        for _ in range(3):
            job = cp.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
        assert job["status"] == "ACTIVE", job
        out = s3.get_object(Bucket="mlpz-batch", Key="out/items-job/items.json.out")["Body"].read().decode()
        lines = [json.loads(x) for x in out.splitlines()]
        assert len(lines) == 2 and all("scores" not in x["output"] for x in lines), lines
        assert all(len(x["output"]["recommendedItems"]) == 5 for x in lines), lines
    check("similar-items batch job: items without scores", sims_job)

    check("batch job name reused: ResourceAlreadyExistsException",
          lambda: expect_error(lambda: create("users-job", camp["solutionVersionArn"], "in/users.json"),
                               "ResourceAlreadyExistsException", 400))

    def failing():
        arn = create("will-fail", camp["solutionVersionArn"], "in/users.json")
        for _ in range(3):
            job = cp.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
        assert job["status"] == "CREATE FAILED" and job.get("failureReason"), job
        arn = create("missing-input", camp["solutionVersionArn"], "in/none.json")
        for _ in range(3):
            job = cp.describe_batch_inference_job(batchInferenceJobArn=arn)["batchInferenceJob"]
        assert job["status"] == "CREATE FAILED" and "in/none.json" in job["failureReason"], job
    check("batch job named *fail* or with a missing input: CREATE FAILED with failureReason", failing)

    def listing():
        jobs = cp.list_batch_inference_jobs(solutionVersionArn=camp["solutionVersionArn"])["batchInferenceJobs"]
        assert {j["jobName"] for j in jobs} == {"users-job", "will-fail", "missing-input"}, jobs
        status, _, body = call(srv.port, "DescribeBatchInferenceJob",
                               {"batchInferenceJobArn": jobs[0]["batchInferenceJobArn"]})
        validate_output("DescribeBatchInferenceJob", json.loads(body), "personalize")
    check("ListBatchInferenceJobs filters by solution version; Describe output validates", listing)


def fault_checks(srv):
    rt = srv.client("personalize-runtime")
    cp = srv.client("personalize")
    rec = {"campaignArn": ARN + "sims", "itemId": "1", "numResults": 3}

    def throttle():
        srv.faults("GetRecommendations", "throttle")
        expect_error(lambda: rt.get_recommendations(**rec), "ThrottlingException", 429)
        srv.faults("ListCampaigns", "throttle")
        e = expect_error(lambda: cp.list_campaigns(), "ThrottlingException", 400)
        assert e.response["Error"]["Message"] == "Rate exceeded", e.response["Error"]
        assert rt.get_recommendations(**rec)["itemList"], "fault not consumed"
    check("throttle: runtime 429, control plane 400 ThrottlingException 'Rate exceeded', consumed once", throttle)

    def retried():
        srv.internal("POST", "/__reset")
        srv.faults("GetRecommendations", "throttle", "throttle")
        client = srv.client("personalize-runtime", retries={"total_max_attempts": 3, "mode": "standard"})
        r = client.get_recommendations(**rec)
        assert r["ResponseMetadata"]["RetryAttempts"] == 2, r["ResponseMetadata"]
        log = srv.log_entries()
        assert [e["fault"] for e in log] == ["throttle", "throttle", None], log
        assert all(e["signature_ok"] for e in log), "a retry was not signed correctly"
    check("two queued throttles: boto3 standard retries succeed on the 3rd attempt, log shows it", retried)

    def by_path_and_isolation():
        srv.faults("/personalize-ranking", "limit")
        assert rt.get_recommendations(**rec)["itemList"], "another path consumed the fault"
        expect_error(lambda: rt.get_personalized_ranking(campaignArn=ARN + "rerank", userId="1", inputList=["1"]),
                     "LimitExceededException", 400)
    check("fault keyed by path hits only that path; limit: LimitExceededException", by_path_and_isolation)

    def server_errors():
        srv.faults("ListCampaigns", "500", "503")
        status, _, body = call(srv.port, "ListCampaigns", {})
        assert status == 500 and json.loads(body)["__type"] == "InternalFailure", (status, body)
        status, _, body = call(srv.port, "ListCampaigns", {})
        assert status == 503 and json.loads(body)["__type"] == "ServiceUnavailable", (status, body)
    check("500: InternalFailure, 503: ServiceUnavailable", server_errors)

    def slow():
        srv.faults("GetRecommendations", "slow:1.5")
        quick = srv.client("personalize-runtime", read_timeout=0.4)
        started = time.time()
        try:
            quick.get_recommendations(**rec)
            raise AssertionError("no timeout")
        except ReadTimeoutError:
            pass
        assert time.time() - started < 1.4, "timed out too late"
        deadline = time.time() + 5
        while not any(e["fault"] == "slow:1.5" for e in srv.log_entries()):
            assert time.time() < deadline, "the slow request never finished"
            time.sleep(0.1)
        srv.faults("GetRecommendations", "slow:0.5")
        started = time.time()
        assert rt.get_recommendations(**rec)["itemList"]
        assert time.time() - started >= 0.5, "answered too early"
    check("slow:1.5 trips a 0.4 s read timeout; slow:0.5 answers after 0.5 s", slow)

    def reset():
        srv.faults("GetRecommendations", "reset")
        body = json.dumps(rec).encode()
        hdrs = sign(srv.port, "POST", "/recommendations", body, runtime_headers())
        head = "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
            s.sendall(f"POST /recommendations HTTP/1.1\r\n{head}Content-Length: {len(body)}\r\n\r\n".encode()
                      + body)
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                return
        raise AssertionError(f"expected a TCP reset, got {data!r}")
    check("reset: the connection is reset (ECONNRESET) without an answer", reset)

    def truncate():
        srv.faults("GetRecommendations", "truncate")
        body = json.dumps(rec).encode()
        try:
            raw(srv.port, "POST", "/recommendations", body,
                sign(srv.port, "POST", "/recommendations", body, runtime_headers()))
            raise AssertionError("read a complete body")
        except http.client.IncompleteRead:
            pass
    check("truncate: body shorter than Content-Length, then close (IncompleteRead)", truncate)

    def badjson():
        srv.faults("DescribeCampaign", "badjson")
        status, _, body = call(srv.port, "DescribeCampaign", {"campaignArn": ARN + "sims"})
        assert status == 200, status
        try:
            json.loads(body)
            raise AssertionError("body parsed as JSON")
        except ValueError:
            pass
    check("badjson: 200 with a body that is not JSON", badjson)

    def bad_spec():
        status, _ = srv.internal("POST", "/__faults", {"path_or_op": "x", "faults": ["explode"]})
        assert status == 400, status
    check("unknown fault kind refused with 400", bad_spec)

    def faults_need_auth():
        srv.faults("ListCampaigns", "500")
        bad = srv.client("personalize", sk="wrong")
        expect_error(lambda: bad.list_campaigns(), "InvalidSignatureException", 403)
        status, _, _ = call(srv.port, "ListCampaigns", {})
        assert status == 500, "the fault was consumed by an unauthenticated request"
    check("faults are consumed only by authenticated requests", faults_need_auth)


def connection_checks(srv):
    def boto_reuse():
        srv.internal("POST", "/__reset")
        cp = srv.client("personalize")
        for _ in range(5):
            cp.list_campaigns(maxResults=1)
        conns = {e["conn"] for e in srv.log_entries()}
        assert len(conns) == 1, f"5 calls on {len(conns)} connections"
        assert srv.internal("GET", "/__stats")[1]["api_connections"] == 1
    check("keep-alive: 5 boto3 calls share one connection (log conn ids, stats)", boto_reuse)

    def raw_reuse():
        srv.internal("POST", "/__reset")
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
        try:
            for _ in range(3):
                status, _, _ = call(srv.port, "ListCampaigns", {}, conn=conn)
                assert status == 200
            status, _, _ = call(srv.port, "ListCampaigns", {"maxResults": "x"}, conn=conn)
            assert status == 400
            status, _, _ = call(srv.port, "ListCampaigns", {}, conn=conn)
            assert status == 200, "connection unusable after an error answer"
        finally:
            conn.close()
        stats = srv.internal("GET", "/__stats")[1]
        assert stats["requests"] == 5 and stats["api_connections"] == 1, stats
    check("keep-alive: 5 raw requests, errors included, on one HTTP/1.1 connection", raw_reuse)


def log_checks(srv):
    def fields():
        srv.internal("POST", "/__reset")
        srv.client("personalize").list_campaigns()
        try:
            srv.client("personalize", sk="bad").list_campaigns()
        except ClientError:
            pass
        entries = srv.log_entries()
        with open(srv.log) as f:
            lines = [json.loads(x) for x in f]
        assert lines == entries, "file and /__log differ"
        good, bad = entries
        for k in ("time", "method", "path", "target", "status", "signature_ok", "conn", "fault"):
            assert k in good, k
        assert good["target"] == "ListCampaigns" and good["status"] == 200 and good["signature_ok"] is True, good
        assert bad["status"] == 403 and bad["signature_ok"] is False and bad["error"] == \
            "InvalidSignatureException", bad
    check("log: one JSON line per request (time, method, path, target, status, signature_ok, conn, fault)",
          fields)

    def no_secrets():
        with open(srv.log) as f:
            text = f.read()
        assert SK not in text, "secret key in log"
        assert "Signature=" not in text and not re.search(r"\b[0-9a-f]{64}\b", text), "a signature in the log"
        out = srv.output()
        assert SK not in out and not re.search(r"\b[0-9a-f]{64}\b", out), "secret or signature in server output"
    check("log file and server output hold no secret key and no signature", no_secrets)


def main():
    workdir = tempfile.mkdtemp(prefix="mlpz-pz-")
    servers, moto = [], None
    ratings = read_ratings()
    try:
        moto_port = free_port()
        moto_bin = shutil.which("moto_server")
        if moto_bin:
            moto = subprocess.Popen([moto_bin, "-H", "127.0.0.1", "-p", str(moto_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        s3_url = f"http://127.0.0.1:{moto_port}"
        main_srv = Server(workdir, "main", "--data", DATA, "--s3-endpoint", s3_url,
                          "--campaign", ARN + "user-personalization", "--campaign", ARN + "sims",
                          "--campaign", ARN + "rerank", "--campaign", ACTIONS + "=personalized-actions")
        servers.append(main_srv)
        runtime_checks(main_srv, ratings)
        validation_checks(main_srv)
        signature_checks(main_srv)
        control_checks(main_srv)
        fault_checks(main_srv)
        connection_checks(main_srv)
        log_checks(main_srv)
        pagination_checks(workdir, servers)
        token_checks(workdir, servers)
        if ok("moto_server (S3) is available for the batch checks", moto is not None, "moto_server not on PATH"):
            deadline = time.time() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", moto_port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline or moto.poll() is not None:
                        raise RuntimeError("moto_server did not start")
                    time.sleep(0.2)
            batch_checks(main_srv, s3_url, ratings)
    except Exception as e:
        ok("self-test ran to the end", False, f"{type(e).__name__}: {e}")
    finally:
        for s in servers:
            rc = s.stop()
            ok(f"server {os.path.basename(s.port_file)} stops on SIGTERM with status 0", rc == 0, f"status {rc}")
        if moto is not None:
            moto.terminate()
            try:
                moto.wait(10)
            except subprocess.TimeoutExpired:
                moto.kill()
                moto.wait(5)
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
