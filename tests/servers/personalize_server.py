#!/usr/bin/env python3
"""A local, strict stand-in for Amazon Personalize (runtime and control plane).

Every API request is authenticated the way AWS does it: the SigV4 signature is
recomputed with botocore's own signer from what actually arrived on the wire,
so a client whose signer is wrong by one byte is refused. Bodies are checked
against botocore's service models, answers use the real response shapes, and
faults (throttling, 5xx, slow answers, reset or truncated connections, bad
JSON) can be queued by tests through unsigned /__ endpoints.

Standard library + botocore only (boto3 is imported lazily, only to reach an S3
endpoint for batch inference jobs). See tests/servers/README.md.
"""
import argparse
import base64
import csv
import datetime
import email.utils
import hashlib
import hmac
import json
import math
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from collections import Counter, OrderedDict, defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.compat import HTTPHeaders
from botocore.credentials import Credentials
from botocore.validate import ParamValidator

DEFAULT_ACCESS_KEY = "AKIAMLPZTEST00000001"
DEFAULT_SECRET_KEY = "mlpz/Test+Secret/Key0000000000000000000000"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"
DEFAULT_CAMPAIGNS = ["user-personalization", "sims", "rerank"]
MAX_SKEW_SECONDS = 300
MAX_BODY = 16 * 1024 * 1024
SIGNING_SERVICE = "personalize"
CAMPAIGN_ARN_RE = re.compile(
    r"^arn:(aws[a-z-]*):personalize:([a-z0-9-]+):(\d{12}):campaign/([A-Za-z0-9][A-Za-z0-9_-]*)$")

# recipe short name -> (recipe kind, recipe ARN suffix)
RECIPES = {
    "user-personalization": ("user", "aws-user-personalization"),
    "user-personalization-v2": ("user", "aws-user-personalization-v2"),
    "popularity-count": ("popular", "aws-popularity-count"),
    "sims": ("related", "aws-sims"),
    "similar-items": ("related", "aws-similar-items"),
    "personalized-ranking": ("ranking", "aws-personalized-ranking"),
    "personalized-ranking-v2": ("ranking", "aws-personalized-ranking-v2"),
    "personalized-actions": ("actions", "aws-personalized-actions"),
}
RECIPE_TYPES = {"user": "USER_PERSONALIZATION", "popular": "USER_PERSONALIZATION",
                "related": "RELATED_ITEMS", "ranking": "PERSONALIZED_RANKING",
                "actions": "PERSONALIZED_ACTIONS"}

RUNTIME_ROUTES = {
    "/recommendations": "GetRecommendations",
    "/personalize-ranking": "GetPersonalizedRanking",
    "/action-recommendations": "GetActionRecommendations",
}
CONTROL_OPS = ("CreateBatchInferenceJob", "DescribeBatchInferenceJob", "ListBatchInferenceJobs",
               "ListCampaigns", "DescribeCampaign", "DescribeSolutionVersion", "GetSolutionMetrics")
FAULT_KINDS = ("throttle", "limit", "500", "503", "reset", "truncate", "badjson")


class ApiError(Exception):
    def __init__(self, status, kind, message):
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message


def item_key(item):
    """Numeric ids sort as numbers, so ties break the same way everywhere."""
    return (0, int(item), "") if item.isdigit() else (1, 0, item)


# ---------------------------------------------------------------- recommender

class Catalog:
    """Deterministic recommendations from real interactions (MovieLens
    ratings.csv) or, without data, from a fixed synthetic set."""

    SYNTHETIC_GENRES = ["Action", "Comedy", "Drama", "Romance", "Thriller", "Sci-Fi", "Documentary"]

    def __init__(self, data_dir):
        self.user_items = defaultdict(dict)   # user -> {item: rating}
        self.item_users = defaultdict(set)    # item -> {user}
        self.titles = {}
        self.genres = {}
        if data_dir:
            self._load(data_dir)
        else:
            self._synthesize()
        self.pop = Counter({i: len(u) for i, u in self.item_users.items()})
        self.popular = sorted(self.pop, key=lambda i: (-self.pop[i], item_key(i)))
        self.max_pop = self.pop[self.popular[0]] if self.popular else 1
        self.actions = sorted({g for gs in self.genres.values() for g in gs})
        self._lock = threading.Lock()
        self._user_cache = OrderedDict()
        self._sim_cache = OrderedDict()

    def _load(self, data_dir):
        path = os.path.join(data_dir, "ratings.csv")
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            for field in ("userId", "movieId", "rating"):
                if field not in (reader.fieldnames or []):
                    raise SystemExit(f"{path}:1: missing column {field!r}: expected a MovieLens ratings.csv")
            for line, row in enumerate(reader, start=2):
                try:
                    rating = float(row["rating"])
                except (TypeError, ValueError):
                    raise SystemExit(f"{path}:{line}: rating {row['rating']!r} is not a number")
                self.user_items[row["userId"]][row["movieId"]] = rating
                self.item_users[row["movieId"]].add(row["userId"])
        movies = os.path.join(data_dir, "movies.csv")
        if os.path.exists(movies):
            with open(movies, newline="", encoding="utf-8") as f:
                for row in csv.DictReader(f):
                    self.titles[row["movieId"]] = row.get("title", "")
                    self.genres[row["movieId"]] = [g for g in (row.get("genres") or "").split("|")
                                                   if g and g != "(no genres listed)"]

    def _synthesize(self):
        rng = random.Random(20180522)
        items = [str(i) for i in range(1, 1001)]
        weights = [1.0 / (k + 10) for k in range(len(items))]
        for i in items:
            self.titles[i] = f"Synthetic item {i}"
            self.genres[i] = [self.SYNTHETIC_GENRES[int(i) % len(self.SYNTHETIC_GENRES)]]
        for u in range(1, 301):
            chosen = set()
            want = 20 + rng.randint(0, 80)
            while len(chosen) < want:
                chosen.add(rng.choices(items, weights)[0])
            for i in sorted(chosen, key=item_key):
                self.user_items[str(u)][i] = rng.choice([1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0])
                self.item_users[i].add(str(u))

    def known_item(self, item):
        return item in self.item_users

    def _cached(self, cache, key, compute):
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = compute()
        with self._lock:
            cache[key] = value
            while len(cache) > 512:
                cache.popitem(last=False)
        return value

    def _user_raw(self, user):
        """Unnormalised affinity of the user for every catalog item: votes of
        the 50 most similar users, plus a small popularity prior so every item
        has a score."""
        mine = self.user_items.get(user)
        raw = {i: 0.01 * self.pop[i] / self.max_pop for i in self.popular}
        if not mine:
            return raw
        overlap = Counter()
        for i in mine:
            for v in self.item_users[i]:
                if v != user:
                    overlap[v] += 1
        neighbours = sorted(((c / math.sqrt(len(mine) * len(self.user_items[v])), v)
                             for v, c in overlap.items()), key=lambda t: (-t[0], item_key(t[1])))[:50]
        for w, v in neighbours:
            for i, r in self.user_items[v].items():
                if r >= 3.0:
                    raw[i] += w * (r - 2.5)
        return raw

    def user_raw(self, user):
        return self._cached(self._user_cache, user, lambda: self._user_raw(user))

    def recommend(self, user, n):
        raw = self.user_raw(user)
        seen = self.user_items.get(user, {})
        cand = [i for i in raw if i not in seen]
        total = sum(raw[i] for i in cand) or 1.0
        cand.sort(key=lambda i: (-raw[i], item_key(i)))
        return [(i, round(raw[i] / total, 7)) for i in cand[:n]]

    def popular_items(self, n):
        total = sum(self.pop.values()) or 1
        return [(i, round(self.pop[i] / total, 7)) for i in self.popular[:n]]

    def _similar(self, item):
        users = self.item_users.get(item)
        ranked = []
        if users:
            co = Counter()
            for u in users:
                co.update(self.user_items[u].keys())
            del co[item]
            support = min(2, len(users))
            scored = [(c / math.sqrt(len(users) * self.pop[j]), j) for j, c in co.items() if c >= support]
            scored.sort(key=lambda t: (-t[0], item_key(t[1])))
            ranked = [j for _, j in scored[:500]]
        have = set(ranked)
        for j in self.popular:
            if len(ranked) >= 500:
                break
            if j != item and j not in have:
                ranked.append(j)
        return ranked

    def similar(self, item, n):
        return self._cached(self._sim_cache, item, lambda: self._similar(item))[:n]

    def rank(self, user, items):
        raw = self.user_raw(user)
        known = [i for i in items if i in self.item_users]
        total = sum(raw[i] for i in known) or 1.0
        order = sorted(range(len(items)), key=lambda k: (items[k] not in self.item_users,
                                                         -raw.get(items[k], 0.0), k))
        out = []
        for k in order:
            i = items[k]
            out.append((i, raw[i] / total if i in self.item_users else None))
        scored = [k for k, (_, s) in enumerate(out) if s is not None]
        if scored:
            for k in scored:
                out[k] = (out[k][0], round(out[k][1], 7))
            first = scored[0]
            rest = sum(out[k][1] for k in scored[1:])
            out[first] = (out[first][0], round(max(0.0, 1.0 - rest), 7))
        return out

    def recommend_actions(self, user, n):
        """Actions are the catalog's genres, scored by the share of the user's
        (or everyone's) interactions that fall in each."""
        counts = Counter()
        items = self.user_items.get(user) or self.pop
        for i in items:
            counts.update(self.genres.get(i, []))
        total = sum(counts.values()) or 1
        ranked = sorted(self.actions, key=lambda g: (-counts[g], g))
        return [(g, round(min(1.0, 0.05 + 2.0 * counts[g] / total), 6)) for g in ranked[:n]]

    def metadata(self, item, columns):
        values = {"TITLE": self.titles.get(item), "GENRES": "|".join(self.genres.get(item, []))}
        out = {}
        for c in columns:
            v = values.get(c.upper())
            if v is not None:
                out[c] = v
        return out


# ------------------------------------------------------------------ models

def _java_pattern(pattern):
    """Coral patterns are Java regexes; translate the \\p{..} classes the
    Personalize models use into Python ones (letters approximated)."""
    inside = {"L": "a-zA-Z\u00c0-\uffff", "N": r"\d", "Z": r"\s", "ASCII": r"\x00-\x7f"}
    out, depth, k = [], 0, 0
    while k < len(pattern):
        m = re.match(r"\\p\{(\w+)\}", pattern[k:])
        if m and m.group(1) in inside:
            body = inside[m.group(1)]
            out.append(body if depth else f"[{body}]")
            k += m.end()
            continue
        c = pattern[k]
        if c == "\\" and k + 1 < len(pattern):
            out.append(pattern[k:k + 2])
            k += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        out.append(c)
        k += 1
    return re.compile("".join(out))


class Models:
    def __init__(self):
        session = botocore.session.get_session()
        self.runtime = session.get_service_model("personalize-runtime")
        self.control = session.get_service_model("personalize")
        self.validator = ParamValidator()
        self._patterns = {}

    def operation(self, op):
        model = self.runtime if op in RUNTIME_ROUTES.values() else self.control
        return model.operation_model(op)

    def validate_input(self, op, params):
        shape = self.operation(op).input_shape
        report = self.validator.validate(params, shape)
        if report.has_errors():
            raise ApiError(400, "ValidationException", report.generate_report())
        errors = []
        self._constraints(params, shape, "", errors)
        if errors:
            plural = "s" if len(errors) > 1 else ""
            raise ApiError(400, "ValidationException",
                           f"{len(errors)} validation error{plural} detected: " + "; ".join(errors))

    def _pattern(self, pattern):
        if pattern not in self._patterns:
            self._patterns[pattern] = _java_pattern(pattern)
        return self._patterns[pattern]

    def _constraints(self, value, shape, where, errors):
        """What botocore leaves to the service: max, pattern and enum."""
        meta = getattr(shape, "metadata", {})
        shown = "***" if meta.get("sensitive") else value

        def fail(rule):
            errors.append(f"Value '{shown}' at '{where}' failed to satisfy constraint: {rule}")

        kind = shape.type_name
        if kind == "structure":
            for name, member in shape.members.items():
                if name in value:
                    self._constraints(value[name], member, f"{where}.{name}" if where else name, errors)
        elif kind == "list":
            if "max" in meta and len(value) > meta["max"]:
                fail(f"Member must have length less than or equal to {meta['max']}")
            for k, v in enumerate(value):
                self._constraints(v, shape.member, f"{where}.{k + 1}.member", errors)
        elif kind == "map":
            if "max" in meta and len(value) > meta["max"]:
                fail(f"Member must have length less than or equal to {meta['max']}")
            for k, v in value.items():
                self._constraints(k, shape.key, f"{where}.{k}.key", errors)
                self._constraints(v, shape.value, f"{where}.{k}.value", errors)
        elif kind == "string":
            if "max" in meta and len(value) > meta["max"]:
                fail(f"Member must have length less than or equal to {meta['max']}")
            if "pattern" in meta and not self._pattern(meta["pattern"]).fullmatch(value):
                fail(f"Member must satisfy regular expression pattern: {meta['pattern']}")
            if shape.enum and value not in shape.enum:
                fail(f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        elif kind in ("integer", "long", "double", "float"):
            if "max" in meta and value > meta["max"]:
                fail(f"Member must have value less than or equal to {meta['max']}")


# ------------------------------------------------------------------ SigV4

class _Verifier(SigV4Auth):
    """botocore's signer, fed exactly the headers the client declared in
    SignedHeaders (botocore would drop some names and add Host itself)."""

    def headers_to_sign(self, request):
        return request.headers


def _redact_token(text, token):
    if not token:
        return text
    return text.replace(token, "<redacted>").replace(urllib.parse.quote(token, safe="-_.~"), "<redacted>")


class Authenticator:
    def __init__(self, keys, region, session_token, expired_token, clock_skew):
        self.keys = keys
        self.region = region
        self.session_token = session_token
        self.expired_token = expired_token
        self.clock_skew = clock_skew

    def now(self):
        return time.time() + self.clock_skew

    def verify(self, method, raw_path, headers, body):
        """Returns the access key on success, raises ApiError otherwise."""
        path, _, query = raw_path.partition("?")
        pairs = [p.partition("=") for p in query.split("&")] if query else []
        qdict = {}
        for k, _, v in pairs:
            qdict.setdefault(_unquote(k), _unquote(v))
        auth_values = headers.get_all("Authorization") or []
        if len(auth_values) > 1:
            raise ApiError(400, "IncompleteSignatureException", "Only one Authorization header is allowed.")
        if auth_values:
            fields = self._parse_authorization(auth_values[0])
            credential, signed, signature = fields["Credential"], fields["SignedHeaders"], fields["Signature"]
            amz_date = headers.get("X-Amz-Date")
            if amz_date is None and headers.get("Date") is not None:
                parsed = _http_date(headers["Date"])
                if parsed is None or parsed.tzinfo is None:
                    raise ApiError(400, "IncompleteSignatureException",
                                   f"Date header {headers['Date']!r} is not an RFC 1123 date.")
                amz_date = parsed.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            if amz_date is None:
                raise ApiError(400, "IncompleteSignatureException",
                               "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
            token = headers.get("X-Amz-Security-Token")
            expires = None
            query_for_signing = query
        elif "X-Amz-Algorithm" in qdict or "X-Amz-Credential" in qdict:
            missing = [p for p in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                   "X-Amz-SignedHeaders", "X-Amz-Signature") if p not in qdict]
            if missing:
                raise ApiError(400, "IncompleteSignatureException",
                               "AWS query-string parameters must include " +
                               ", ".join(f"'{m}'" for m in missing) + ".")
            if qdict["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
                raise ApiError(400, "IncompleteSignatureException",
                               f"Unsupported AWS 'algorithm': '{qdict['X-Amz-Algorithm']}'.")
            credential, signed = qdict["X-Amz-Credential"], qdict["X-Amz-SignedHeaders"]
            signature, amz_date = qdict["X-Amz-Signature"], qdict["X-Amz-Date"]
            token = qdict.get("X-Amz-Security-Token")
            expires = qdict.get("X-Amz-Expires", "")
            if not expires.isdigit() or not 1 <= int(expires) <= 604800:
                raise ApiError(400, "IncompleteSignatureException",
                               "X-Amz-Expires must be a number of seconds between 1 and 604800.")
            query_for_signing = "&".join(f"{k}={v}" if e else k for k, e, v in pairs
                                         if _unquote(k) != "X-Amz-Signature")
        else:
            raise ApiError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")

        scope = credential.split("/")
        if len(scope) != 5:
            raise ApiError(400, "IncompleteSignatureException",
                           "Credential must have exactly 5 slash-delimited elements, e.g. "
                           "keyid/date/region/service/term, got '" + "/".join(scope[1:]) + "'")
        access_key, scope_date, region, service, terminator = scope
        secret = self.keys.get(access_key)
        if secret is None:
            raise ApiError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if self.session_token is not None:
            if token is None or not hmac.compare_digest(token.encode(), self.session_token.encode()):
                raise ApiError(403, "UnrecognizedClientException",
                               "The security token included in the request is invalid.")
            if self.expired_token:
                raise ApiError(403, "ExpiredTokenException",
                               "The security token included in the request is expired")
        elif token is not None:
            raise ApiError(403, "UnrecognizedClientException",
                           "The security token included in the request is invalid.")
        if terminator != "aws4_request":
            raise ApiError(403, "InvalidSignatureException",
                           f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.")
        if service != SIGNING_SERVICE:
            raise ApiError(403, "InvalidSignatureException",
                           f"Credential should be scoped to correct service: '{SIGNING_SERVICE}'. ")
        if self.region and region != self.region:
            raise ApiError(403, "InvalidSignatureException",
                           f"Credential should be scoped to a valid region, not '{region}'. ")
        if not re.fullmatch(r"\d{8}T\d{6}Z", amz_date):
            raise ApiError(400, "IncompleteSignatureException",
                           f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. "
                           "See http://en.wikipedia.org/wiki/ISO_8601")
        if scope_date != amz_date[:8]:
            raise ApiError(403, "InvalidSignatureException",
                           "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                           f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
        try:
            signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
        except ValueError:
            raise ApiError(400, "IncompleteSignatureException", f"Date '{amz_date}' is not a valid date.")
        self._check_time(signed_at, amz_date, expires)

        names = signed.split(";")
        if "host" not in names:
            raise ApiError(403, "InvalidSignatureException",
                           "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
        hdrs = HTTPHeaders()
        for name in names:
            values = headers.get_all(name)
            if not values:
                raise ApiError(403, "InvalidSignatureException",
                               f"The request signature we calculated does not match the signature you provided: "
                               f"header '{name}' is listed in SignedHeaders but was not sent.")
            for v in values:
                hdrs[name] = v
        sha = hdrs.get("x-amz-content-sha256")
        if sha is not None and sha != hashlib.sha256(body).hexdigest():
            raise ApiError(403, "InvalidSignatureException",
                           "The provided 'x-amz-content-sha256' header does not match what was computed.")
        request = AWSRequest(method=method, url=f"http://{headers.get('Host', '')}{path}"
                             + (f"?{query_for_signing}" if query_for_signing else ""), data=body)
        request.headers = hdrs
        request.context["timestamp"] = amz_date
        signer = _Verifier(Credentials(access_key, secret, token), service, region)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise ApiError(403, "InvalidSignatureException",
                           "The request signature we calculated does not match the signature you provided. "
                           "Check your AWS Secret Access Key and signing method. Consult the service "
                           "documentation for details.\n\nThe Canonical String for this request should have been\n'"
                           + _redact_token(canonical, token) + "'\n\nThe String-to-Sign should have been\n'"
                           + string_to_sign + "'\n")
        return access_key

    def _check_time(self, signed_at, amz_date, expires):
        now = self.now()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
        if expires is not None:
            if now > signed_at + int(expires):
                raise ApiError(403, "InvalidSignatureException",
                               f"Signature expired: {amz_date} is now earlier than "
                               f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - int(expires)))} "
                               f"({stamp} - {expires} sec.)")
            if signed_at > now + MAX_SKEW_SECONDS:
                raise ApiError(403, "InvalidSignatureException",
                               f"Signature not yet current: {amz_date} is still later than "
                               f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now + MAX_SKEW_SECONDS))} "
                               f"({stamp} + 5 min.)")
            return
        if signed_at < now - MAX_SKEW_SECONDS:
            raise ApiError(403, "InvalidSignatureException",
                           f"Signature expired: {amz_date} is now earlier than "
                           f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now - MAX_SKEW_SECONDS))} "
                           f"({stamp} - 5 min.)")
        if signed_at > now + MAX_SKEW_SECONDS:
            raise ApiError(403, "InvalidSignatureException",
                           f"Signature not yet current: {amz_date} is still later than "
                           f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(now + MAX_SKEW_SECONDS))} "
                           f"({stamp} + 5 min.)")

    @staticmethod
    def _parse_authorization(value):
        algorithm, _, rest = value.strip().partition(" ")
        if algorithm != "AWS4-HMAC-SHA256":
            raise ApiError(400, "IncompleteSignatureException",
                           f"Unsupported AWS 'algorithm': '{algorithm}'.")
        fields = {}
        for part in rest.split(","):
            k, eq, v = part.strip().partition("=")
            if eq:
                fields[k] = v
        missing = [f"Authorization header requires '{k}' parameter." for k in ("Credential", "SignedHeaders",
                                                                                "Signature") if not fields.get(k)]
        if missing:
            raise ApiError(400, "IncompleteSignatureException", " ".join(missing))
        return fields


def _unquote(s):
    return urllib.parse.unquote(s)


def _http_date(value):
    try:
        return email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ service state

def parse_campaign(spec, index):
    arn, _, recipe = spec.partition("=")
    m = CAMPAIGN_ARN_RE.match(arn)
    if not m:
        raise SystemExit(f"--campaign {spec!r}: expected arn:aws:personalize:REGION:ACCOUNT:campaign/NAME[=RECIPE]")
    partition, region, account, name = m.groups()
    if not recipe:
        low = name.lower()
        recipe = ("sims" if "sims" in low or "similar" in low else
                  "personalized-ranking" if "rank" in low else
                  "popularity-count" if "popular" in low else
                  "personalized-actions" if "action" in low else "user-personalization")
    recipe = recipe.split("/")[-1]
    recipe = recipe[4:] if recipe.startswith("aws-") else recipe
    if recipe not in RECIPES:
        raise SystemExit(f"--campaign {spec!r}: unknown recipe {recipe!r}; use one of {', '.join(sorted(RECIPES))}")
    kind, recipe_name = RECIPES[recipe]
    prefix = f"arn:{partition}:personalize:{region}:{account}"
    version = hashlib.sha1(arn.encode()).hexdigest()[:8]
    created = 1714564800.0 + 3600 * index   # 2024-05-01T12:00:00Z, then one hour apart
    return {"name": name, "campaignArn": arn, "kind": kind, "region": region, "account": account,
            "recipeArn": f"arn:{partition}:personalize:::recipe/{recipe_name}",
            "solutionArn": f"{prefix}:solution/{name}",
            "solutionVersionArn": f"{prefix}:solution/{name}/{version}",
            "datasetGroupArn": f"{prefix}:dataset-group/movielens",
            "created": created, "updated": created + 1800}


class State:
    def __init__(self, args, catalog, models):
        self.args = args
        self.catalog = catalog
        self.models = models
        self.campaigns = OrderedDict()
        specs = args.campaign or [f"arn:aws:personalize:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:campaign/{n}"
                                  for n in DEFAULT_CAMPAIGNS]
        for k, spec in enumerate(specs):
            c = parse_campaign(spec, k)
            self.campaigns[c["campaignArn"]] = c
        self.versions = {c["solutionVersionArn"]: c for c in self.campaigns.values()}
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.faults = defaultdict(deque)
            self.jobs = OrderedDict()
            self.log = []
            self.stats = {"requests": 0, "connections": 0, "api_connections": 0, "faults_applied": 0,
                          "by_op": Counter(), "by_status": Counter()}
            self.api_conns = set()
        if self.args.log:
            with self.log_lock, open(self.args.log, "w", encoding="utf-8"):
                pass

    def new_connection(self):
        with self.lock:
            self.stats["connections"] += 1
            self._conn_seq = getattr(self, "_conn_seq", 0) + 1
            return self._conn_seq

    def take_fault(self, op, path):
        with self.lock:
            for key in (op, path, "*"):
                if key and self.faults.get(key):
                    self.stats["faults_applied"] += 1
                    return self.faults[key].popleft()
        return None

    def record(self, entry):
        line = json.dumps(entry, sort_keys=True)
        with self.lock:
            self.log.append(entry)
            self.stats["requests"] += 1
            if entry["conn"] not in self.api_conns:
                self.api_conns.add(entry["conn"])
                self.stats["api_connections"] += 1
            self.stats["by_op"][entry["target"] or "-"] += 1
            self.stats["by_status"][str(entry["status"])] += 1
        if self.args.log:
            with self.log_lock, open(self.args.log, "a", encoding="utf-8") as f:
                f.write(line + "\n")

    def snapshot_stats(self):
        with self.lock:
            out = dict(self.stats)
            out["by_op"] = dict(out["by_op"])
            out["by_status"] = dict(out["by_status"])
            out["pending_faults"] = {k: list(v) for k, v in self.faults.items() if v}
            return out

    # ---------------------------------------------------------- helpers
    def campaign(self, arn):
        c = self.campaigns.get(arn)
        if c is None:
            raise ApiError(404, "ResourceNotFoundException", f"Resource {arn} does not exist.")
        return c

    @staticmethod
    def _rid():
        return f"RID-{uuid.uuid4()}"

    def _items(self, recs, with_scores, metadata_cols=None):
        out = []
        for item, score in recs:
            e = {"itemId": item}
            if with_scores and score is not None:
                e["score"] = score
            if metadata_cols:
                e["metadata"] = self.catalog.metadata(item, metadata_cols)
            out.append(e)
        return out

    # ---------------------------------------------------------- runtime
    def get_recommendations(self, p):
        arn = p.get("campaignArn")
        if arn is None:
            if p.get("recommenderArn"):
                raise ApiError(404, "ResourceNotFoundException", f"Resource {p['recommenderArn']} does not exist.")
            raise ApiError(400, "ValidationException",
                           'Parameter validation failed:\nMissing required parameter in input: one of '
                           '"campaignArn" or "recommenderArn"')
        if p.get("recommenderArn"):
            raise ApiError(400, "InvalidInputException", "Provide either campaignArn or recommenderArn, not both.")
        c = self.campaign(arn)
        n = p.get("numResults") or 25
        cols = (p.get("metadataColumns") or {}).get("ITEMS")
        limit = 50 if cols else 500
        if n > limit:
            raise ApiError(400, "InvalidInputException",
                           f"numResults must be at most {limit}{' when metadataColumns is set' if cols else ''}.")
        kind = c["kind"]
        if kind in ("ranking", "actions"):
            raise ApiError(400, "InvalidInputException",
                           f"Campaign {arn} uses a {RECIPE_TYPES[kind]} recipe: GetRecommendations is not supported.")
        if kind == "related":
            if not p.get("itemId"):
                raise ApiError(400, "InvalidInputException",
                               "itemId is required for a campaign with a RELATED_ITEMS recipe.")
            recs = [(i, None) for i in self.catalog.similar(p["itemId"], n)]
            return {"itemList": self._items(recs, False, cols), "recommendationId": self._rid()}
        if not p.get("userId"):
            raise ApiError(400, "InvalidInputException",
                           "userId is required for a campaign with a USER_PERSONALIZATION recipe.")
        recs = (self.catalog.popular_items(n) if kind == "popular"
                else self.catalog.recommend(p["userId"], n))
        return {"itemList": self._items(recs, True, cols), "recommendationId": self._rid()}

    def get_personalized_ranking(self, p):
        c = self.campaign(p["campaignArn"])
        if c["kind"] != "ranking":
            raise ApiError(400, "InvalidInputException",
                           f"Campaign {c['campaignArn']} does not use a PERSONALIZED_RANKING recipe.")
        cols = (p.get("metadataColumns") or {}).get("ITEMS")
        limit = 50 if cols else 500
        if len(p["inputList"]) > limit:
            raise ApiError(400, "InvalidInputException", f"inputList must have at most {limit} items.")
        ranked = self.catalog.rank(p["userId"], p["inputList"])
        return {"personalizedRanking": self._items(ranked, True, cols), "recommendationId": self._rid()}

    def get_action_recommendations(self, p):
        if not p.get("campaignArn"):
            raise ApiError(400, "ValidationException",
                           'Parameter validation failed:\nMissing required parameter in input: "campaignArn"')
        c = self.campaign(p["campaignArn"])
        if c["kind"] != "actions":
            raise ApiError(400, "InvalidInputException",
                           f"Campaign {c['campaignArn']} does not use a PERSONALIZED_ACTIONS recipe.")
        n = p.get("numResults") or 5
        if n > 100:
            raise ApiError(400, "InvalidInputException", "numResults must be at most 100.")
        if not p.get("userId"):
            raise ApiError(400, "InvalidInputException", "userId is required.")
        acts = self.catalog.recommend_actions(p["userId"], n)
        return {"actionList": [{"actionId": a, "score": s} for a, s in acts], "recommendationId": self._rid()}

    # ---------------------------------------------------------- control plane
    @staticmethod
    def _page(items, p, what):
        size = p.get("maxResults") or 100
        start = 0
        token = p.get("nextToken")
        if token is not None:
            try:
                kind, _, off = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
                start = int(off)
                if kind != what or not 0 < start < len(items) + 1:
                    raise ValueError(token)
            except (ValueError, UnicodeDecodeError):
                raise ApiError(400, "InvalidNextTokenException", "The next token is invalid.")
        page = items[start:start + size]
        nxt = None
        if start + size < len(items):
            nxt = base64.urlsafe_b64encode(f"{what}:{start + size}".encode()).decode()
        return page, nxt

    def list_campaigns(self, p):
        cs = [c for c in self.campaigns.values() if p.get("solutionArn") in (None, c["solutionArn"])]
        page, nxt = self._page(cs, p, "campaigns")
        out = {"campaigns": [{"name": c["name"], "campaignArn": c["campaignArn"], "status": "ACTIVE",
                              "creationDateTime": c["created"], "lastUpdatedDateTime": c["updated"]}
                             for c in page]}
        if nxt:
            out["nextToken"] = nxt
        return out

    def describe_campaign(self, p):
        c = self.campaign(p["campaignArn"])
        config = {"enableMetadataWithRecommendations": False, "syncWithLatestSolutionVersion": False}
        if c["kind"] == "user":
            config["itemExplorationConfig"] = {"explorationWeight": "0.3", "explorationItemAgeCutOff": "30"}
        return {"campaign": {"name": c["name"], "campaignArn": c["campaignArn"],
                             "solutionVersionArn": c["solutionVersionArn"], "minProvisionedTPS": 1,
                             "campaignConfig": config, "status": "ACTIVE",
                             "creationDateTime": c["created"], "lastUpdatedDateTime": c["updated"]}}

    def _version(self, arn):
        c = self.versions.get(arn)
        if c is None:
            raise ApiError(404, "ResourceNotFoundException", f"Resource {arn} does not exist.")
        return c

    def describe_solution_version(self, p):
        c = self._version(p["solutionVersionArn"])
        hyper = {"user": {"hidden_dimension": "149", "bptt": "32", "recency_mask": "true"},
                 "related": {"min_cointerest": "3", "popularity_discount_factor": "0.5"},
                 "ranking": {"hidden_dimension": "149", "bptt": "32", "recency_mask": "true"},
                 "popular": {}, "actions": {}}[c["kind"]]
        return {"solutionVersion": {
            "name": c["name"], "solutionVersionArn": c["solutionVersionArn"], "solutionArn": c["solutionArn"],
            "performHPO": False, "performAutoML": False, "performIncrementalUpdate": False,
            "recipeArn": c["recipeArn"], "eventType": "watch", "datasetGroupArn": c["datasetGroupArn"],
            "solutionConfig": {"algorithmHyperParameters": hyper},
            "trainingHours": 0.5, "trainingMode": "FULL", "tunedHPOParams": {"algorithmHyperParameters": hyper},
            "status": "ACTIVE", "creationDateTime": c["created"] - 7200, "lastUpdatedDateTime": c["created"] - 3600,
            "trainingType": "MANUAL"}}

    def get_solution_metrics(self, p):
        c = self._version(p["solutionVersionArn"])
        digest = hashlib.sha256(c["solutionVersionArn"].encode()).digest()
        jitter = [0.9 + 0.2 * b / 255 for b in digest[:8]]
        base = {"related": (0.31, 0.082, 0.071, 0.088, 0.121, 0.041, 0.035, 0.027),
                "ranking": (0.12, 0.168, 0.152, 0.181, 0.236, 0.087, 0.074, 0.055)}.get(
            c["kind"], (0.18, 0.172, 0.141, 0.169, 0.221, 0.082, 0.070, 0.051))
        v = [round(b * j, 4) for b, j in zip(base, jitter)]
        ndcg = sorted(v[2:5])
        prec = sorted(v[5:8], reverse=True)
        return {"solutionVersionArn": c["solutionVersionArn"], "metrics": {
            "coverage": v[0], "mean_reciprocal_rank_at_25": v[1],
            "normalized_discounted_cumulative_gain_at_5": ndcg[0],
            "normalized_discounted_cumulative_gain_at_10": ndcg[1],
            "normalized_discounted_cumulative_gain_at_25": ndcg[2],
            "precision_at_5": prec[0], "precision_at_10": prec[1], "precision_at_25": prec[2]}}

    def create_batch_inference_job(self, p):
        c = self._version(p["solutionVersionArn"])
        arn = (f"arn:aws:personalize:{c['region']}:{c['account']}:batch-inference-job/{p['jobName']}")
        now = time.time()
        with self.lock:
            if arn in self.jobs:
                raise ApiError(400, "ResourceAlreadyExistsException", f"Batch inference job {arn} already exists.")
            job = {"jobName": p["jobName"], "batchInferenceJobArn": arn,
                   "solutionVersionArn": p["solutionVersionArn"], "numResults": p.get("numResults") or 25,
                   "jobInput": p["jobInput"], "jobOutput": p["jobOutput"], "roleArn": p["roleArn"],
                   "batchInferenceJobConfig": p.get("batchInferenceJobConfig", {}),
                   "batchInferenceJobMode": p.get("batchInferenceJobMode", "BATCH_INFERENCE"),
                   "status": "CREATE PENDING", "creationDateTime": now, "lastUpdatedDateTime": now}
            for opt in ("filterArn", "themeGenerationConfig"):
                if opt in p:
                    job[opt] = p[opt]
            self.jobs[arn] = {"job": job, "describes": 0, "lock": threading.Lock()}
        return {"batchInferenceJobArn": arn}

    def describe_batch_inference_job(self, p):
        arn = p["batchInferenceJobArn"]
        with self.lock:
            entry = self.jobs.get(arn)
            if entry is None:
                raise ApiError(404, "ResourceNotFoundException", f"Resource {arn} does not exist.")
        with entry["lock"]:
            job = entry["job"]
            entry["describes"] += 1
            step = entry["describes"]
            if step == 1:
                job["status"] = "PENDING"
            elif step == 2:
                job["status"] = "IN_PROGRESS"
            elif job["status"] == "IN_PROGRESS":
                if "fail" in job["jobName"].lower():
                    job["status"] = "CREATE FAILED"
                    job["failureReason"] = (f"Job {job['jobName']} failed: the input file could not be "
                                            "processed (requested by the job name).")
                else:
                    try:
                        self._run_batch(job)
                        job["status"] = "ACTIVE"
                    except ApiError as e:
                        job["status"] = "CREATE FAILED"
                        job["failureReason"] = e.message
            if step <= 3:
                job["lastUpdatedDateTime"] = time.time()
            return {"batchInferenceJob": json.loads(json.dumps(job))}

    def list_batch_inference_jobs(self, p):
        with self.lock:
            jobs = [e["job"] for e in self.jobs.values()]
        jobs = [j for j in reversed(jobs) if p.get("solutionVersionArn") in (None, j["solutionVersionArn"])]
        page, nxt = self._page(jobs, p, "jobs")
        keys = ("batchInferenceJobArn", "jobName", "status", "creationDateTime", "lastUpdatedDateTime",
                "failureReason", "solutionVersionArn", "batchInferenceJobMode")
        out = {"batchInferenceJobs": [{k: j[k] for k in keys if k in j} for j in page]}
        if nxt:
            out["nextToken"] = nxt
        return out

    def batch_line(self, kind, record, n):
        """One record of Personalize's batch output format."""
        if not isinstance(record, dict):
            return {"input": record, "output": None, "error": "Each input line must be a JSON object."}
        try:
            if kind == "related":
                if not isinstance(record.get("itemId"), str):
                    raise ValueError("itemId is required (a string) for a RELATED_ITEMS solution version.")
                return {"input": record, "output": {"recommendedItems": self.catalog.similar(record["itemId"], n)},
                        "error": None}
            if not isinstance(record.get("userId"), str):
                raise ValueError("userId is required (a string).")
            if kind == "ranking":
                items = record.get("itemList")
                if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                    raise ValueError("itemList is required (a list of strings) for a PERSONALIZED_RANKING "
                                     "solution version.")
                ranked = self.catalog.rank(record["userId"], items)
            elif kind == "popular":
                ranked = self.catalog.popular_items(n)
            else:
                ranked = self.catalog.recommend(record["userId"], n)
            out = {"recommendedItems": [i for i, _ in ranked]}
            scores = [s for _, s in ranked if s is not None]
            out["scores"] = scores
            return {"input": record, "output": out, "error": None}
        except ValueError as e:
            return {"input": record, "output": None, "error": str(e)}

    def _run_batch(self, job):
        if not self.args.s3_endpoint:
            return
        src = job["jobInput"]["s3DataSource"]["path"]
        dst = job["jobOutput"]["s3DataDestination"]["path"]
        bucket, key = _s3_split(src)
        out_bucket, prefix = _s3_split(dst)
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        kind = self.versions[job["solutionVersionArn"]]["kind"]
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError
            key_id = next(iter(self.args.keys))
            s3 = boto3.client("s3", endpoint_url=self.args.s3_endpoint, region_name=DEFAULT_REGION,
                              aws_access_key_id=key_id, aws_secret_access_key=self.args.keys[key_id],
                              config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2},
                                            connect_timeout=5, read_timeout=30))
            data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as e:
            raise ApiError(400, "InvalidInputException", f"Could not read the input file {src}: {e}")
        lines = []
        for raw in data.decode("utf-8", errors="replace").splitlines():
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError:
                lines.append(json.dumps({"input": raw, "output": None, "error": "The input line is not valid JSON."}))
                continue
            lines.append(json.dumps(self.batch_line(kind, record, job["numResults"])))
        out_key = prefix + key.rsplit("/", 1)[-1] + ".out"
        try:
            s3.put_object(Bucket=out_bucket, Key=out_key, Body=("\n".join(lines) + "\n").encode())
        except (BotoCoreError, ClientError) as e:
            raise ApiError(400, "InvalidInputException", f"Could not write the output to {dst}: {e}")


def _s3_split(path):
    m = re.match(r"^s3://([^/]+)/?(.*)$", path)
    if not m:
        raise ApiError(400, "InvalidInputException", f"{path} is not an s3://bucket/key path.")
    return m.group(1), m.group(2)


CONTROL_HANDLERS = {
    "CreateBatchInferenceJob": State.create_batch_inference_job,
    "DescribeBatchInferenceJob": State.describe_batch_inference_job,
    "ListBatchInferenceJobs": State.list_batch_inference_jobs,
    "ListCampaigns": State.list_campaigns,
    "DescribeCampaign": State.describe_campaign,
    "DescribeSolutionVersion": State.describe_solution_version,
    "GetSolutionMetrics": State.get_solution_metrics,
    "GetRecommendations": State.get_recommendations,
    "GetPersonalizedRanking": State.get_personalized_ranking,
    "GetActionRecommendations": State.get_action_recommendations,
}


# ------------------------------------------------------------------ HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: with Nagle on, the body
    # waits for the client's delayed ACK (40 ms a call on Linux), which
    # would swamp every client-side timing.
    disable_nagle_algorithm = True

    def version_string(self):
        return "mlpz-personalize-stub/1.0"

    def setup(self):
        super().setup()
        self.conn_id = self.server.state.new_connection()

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            line = re.sub(r"(X-Amz-(?:Signature|Security-Token)=)[^&\s]*", r"\1<redacted>", fmt % args)
            sys.stderr.write(f"{self.address_string()} - {line}\n")

    def do_GET(self):
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    # ---------------------------------------------------------- plumbing
    def _read_body(self):
        try:
            return self._read_body_or_fail()
        except ApiError:
            # What is left of a body we could not read would be taken for the
            # next request on this connection.
            self.close_connection = True
            raise

    def _read_body_or_fail(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                size_line = self.rfile.readline(1024)
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise ApiError(400, "SerializationException", "Malformed chunked request body.")
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY:
                    raise ApiError(413, "RequestEntityTooLargeException", "Request body too large.")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(1024)
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.isdigit():
            raise ApiError(400, "SerializationException", f"Invalid Content-Length {length!r}.")
        if int(length) > MAX_BODY:
            raise ApiError(413, "RequestEntityTooLargeException", "Request body too large.")
        body = self.rfile.read(int(length))
        if len(body) != int(length):
            raise ApiError(400, "SerializationException", "Request body shorter than Content-Length.")
        return body

    def _send(self, status, body, content_type, request_id, extra=()):
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", request_id)
            for k, v in extra:
                self.send_header(k, v)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_json(self, status, obj, content_type="application/json", request_id=None, extra=()):
        self._send(status, json.dumps(obj), content_type, request_id or str(uuid.uuid4()), extra)

    def _send_error(self, err, content_type, request_id):
        self._send_json(err.status, {"__type": err.kind, "message": err.message}, content_type, request_id,
                        [("x-amzn-ErrorType", err.kind)])

    # ---------------------------------------------------------- dispatch
    def _dispatch(self):
        state = self.server.state
        path = self.path.partition("?")[0]
        if path.startswith("/__"):
            try:
                body = self._read_body()
            except ApiError as e:
                return self._send_error(e, "application/json", str(uuid.uuid4()))
            return self._internal(path, body)
        started = time.time()
        request_id = str(uuid.uuid4())
        op, content_type = self._route(path)
        entry = {"time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
                 "conn": self.conn_id, "method": self.command, "path": path, "target": op,
                 "status": None, "signature_ok": False, "access_key": None, "error": None, "fault": None,
                 "request_id": request_id, "amz_date": self.headers.get("X-Amz-Date"),
                 "user_agent": self.headers.get("User-Agent"), "bytes_in": 0}
        try:
            body = self._read_body()
            entry["bytes_in"] = len(body)
            entry["access_key"] = _claimed_key(self.headers.get("Authorization") or "", self.path)
            entry["access_key"] = state.auth.verify(self.command, self.path, self.headers, body)
            entry["signature_ok"] = True
            self._check_route(op, path)
            fault = state.take_fault(op, path)
            entry["fault"] = fault
            if fault and fault.startswith("slow:"):
                time.sleep(float(fault[5:]))
            elif fault:
                self._raise_fault(fault, op)
            status, payload, extra = 200, self._call(op, body), ()
        except ApiError as e:
            entry["error"] = e.kind
            status, payload, extra = e.status, {"__type": e.kind, "message": e.message}, [("x-amzn-ErrorType", e.kind)]
        except Exception:  # a bug here must still give the client an answer
            traceback.print_exc()
            entry["error"] = "InternalFailure"
            status, payload, extra = 500, {"__type": "InternalFailure", "message": "Stub server error."}, ()
        entry["status"] = status
        if entry["fault"] in ("reset", "truncate", "badjson"):
            entry["status"] = {"reset": "reset", "truncate": "truncated", "badjson": 200}[entry["fault"]]
        # Recorded before the client can see an answer, so a test that reads
        # /__log right after its call always finds the entry.
        entry["duration_ms"] = round((time.time() - started) * 1000, 1)
        state.record(entry)
        if entry["fault"] == "reset":
            self._reset_connection()
        elif entry["fault"] == "truncate":
            self._send_truncated(content_type, request_id)
        elif entry["fault"] == "badjson":
            self._send(200, "<html><body><h1>502 Bad Gateway</h1></body></html>\n", content_type, request_id)
        else:
            self._send_json(status, payload, content_type, request_id, extra)

    def _route(self, path):
        if path in RUNTIME_ROUTES:
            return RUNTIME_ROUTES[path], "application/json"
        if path == "/":
            target = self.headers.get("X-Amz-Target") or ""
            prefix, _, name = target.partition(".")
            return (name if prefix == "AmazonPersonalize" and name in CONTROL_OPS else None,
                    "application/x-amz-json-1.1")
        return None, "application/json"

    def _check_route(self, op, path):
        if path in RUNTIME_ROUTES:
            if self.command != "POST":
                raise ApiError(405, "MethodNotAllowedException", f"{self.command} {path} is not supported; use POST.")
            return
        if path != "/":
            raise ApiError(404, "UnknownOperationException", f"No operation at {self.command} {path}.")
        if self.command != "POST":
            raise ApiError(404, "UnknownOperationException", f"{self.command} / is not an operation; use POST.")
        if op is None:
            target = self.headers.get("X-Amz-Target")
            raise ApiError(400, "UnknownOperationException",
                           f"Unknown operation {target!r}." if target else "Missing X-Amz-Target header.")
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-amz-json-1.1":
            raise ApiError(400, "SerializationException",
                           f"Content-Type must be application/x-amz-json-1.1, not {ctype or 'missing'}.")

    def _call(self, op, body):
        state = self.server.state
        if body.strip():
            try:
                params = json.loads(body.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                raise ApiError(400, "SerializationException", f"Could not parse the request body as JSON: {e}")
        else:
            params = {}
        if not isinstance(params, dict):
            raise ApiError(400, "SerializationException", "The request body must be a JSON object.")
        state.models.validate_input(op, params)
        return CONTROL_HANDLERS[op](state, params)

    @staticmethod
    def _raise_fault(fault, op):
        """Faults that are an error answer raise it; the others are carried
        out by _dispatch once the request is logged."""
        runtime = op in RUNTIME_ROUTES.values()
        if fault == "throttle":
            raise ApiError(429 if runtime else 400, "ThrottlingException", "Rate exceeded")
        if fault == "limit":
            raise ApiError(400, "LimitExceededException", "Rate exceeded: limit exceeded for this account.")
        if fault == "500":
            raise ApiError(500, "InternalFailure",
                           "The request processing has failed because of an unknown error, exception or failure.")
        if fault == "503":
            raise ApiError(503, "ServiceUnavailable", "Service is unable to handle request.")

    def _reset_connection(self):
        """SO_LINGER 0 makes close() send a TCP RST instead of a FIN."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        self.connection.close()

    def _send_truncated(self, content_type, request_id):
        self.close_connection = True
        body = json.dumps({"itemList": [{"itemId": str(i)} for i in range(1, 20)]}).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) + 1000))
            self.send_header("x-amzn-RequestId", request_id)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
        except OSError:
            pass

    # ---------------------------------------------------------- test endpoints
    def _internal(self, path, body):
        state = self.server.state
        method = self.command
        if path == "/__faults" and method == "POST":
            try:
                spec = json.loads(body.decode("utf-8") or "null")
                key = spec["path_or_op"]
                faults = spec["faults"]
                if not isinstance(key, str) or not isinstance(faults, list):
                    raise ValueError("path_or_op must be a string and faults a list")
                for f in faults:
                    if not isinstance(f, str) or not (f in FAULT_KINDS or _slow_ok(f)):
                        raise ValueError(f"unknown fault {f!r}: use one of {', '.join(FAULT_KINDS)} or slow:SECONDS")
            except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
                return self._send_json(400, {"error": f"bad fault spec: {e}"})
            with state.lock:
                state.faults[key].extend(faults)
                pending = len(state.faults[key])
            return self._send_json(200, {"queued": len(faults), "pending": pending, "path_or_op": key})
        if path == "/__faults" and method == "GET":
            return self._send_json(200, state.snapshot_stats()["pending_faults"])
        if path == "/__log" and method == "GET":
            with state.lock:
                entries = list(state.log)
            return self._send_json(200, entries)
        if path == "/__stats" and method == "GET":
            return self._send_json(200, state.snapshot_stats())
        if path == "/__reset" and method == "POST":
            state.reset()
            return self._send_json(200, {"reset": True})
        return self._send_json(404, {"error": f"no test endpoint {method} {path}"})


def _claimed_key(authorization, raw_path):
    """The access key a request claims, for the log even when it is refused."""
    m = (re.search(r"Credential=([A-Za-z0-9]+)/", authorization)
         or re.search(r"[?&]X-Amz-Credential=([A-Za-z0-9]+)(?:/|%2F)", raw_path))
    return m.group(1) if m else None


def _slow_ok(f):
    if not f.startswith("slow:"):
        return False
    try:
        return 0 <= float(f[5:]) <= 600
    except ValueError:
        return False


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--port-file", help="write the chosen port here once listening")
    ap.add_argument("--log", help="one JSON line per API request (emptied at start and by POST /__reset)")
    ap.add_argument("--access-key", default=DEFAULT_ACCESS_KEY, help="the one known access key id")
    ap.add_argument("--secret-key", default=DEFAULT_SECRET_KEY, help="its secret (default: the test secret)")
    ap.add_argument("--session-token", help="require this session token (X-Amz-Security-Token)")
    ap.add_argument("--expired-token", action="store_true", help="answer ExpiredTokenException for the token")
    ap.add_argument("--region", default=DEFAULT_REGION, help="signing region to accept ('' accepts any)")
    ap.add_argument("--clock-skew", type=float, default=0.0, help="seconds added to the server's clock")
    ap.add_argument("--data", help="MovieLens folder with ratings.csv (and movies.csv)")
    ap.add_argument("--campaign", action="append", help="ARN[=recipe], repeatable")
    ap.add_argument("--s3-endpoint", help="S3 endpoint URL for batch inference jobs")
    ap.add_argument("--idle-timeout", type=float, default=60.0, help="close idle keep-alive connections after this")
    ap.add_argument("--verbose", action="store_true", help="HTTP request lines on stderr (signatures redacted)")
    args = ap.parse_args(argv)
    if args.expired_token and not args.session_token:
        ap.error("--expired-token needs --session-token")
    args.keys = {args.access_key: args.secret_key}

    if args.data and not os.path.isfile(os.path.join(args.data, "ratings.csv")):
        ap.error(f"--data {args.data}: no ratings.csv there (expected a MovieLens folder)")
    catalog = Catalog(args.data)
    models = Models()
    state = State(args, catalog, models)
    state.auth = Authenticator(args.keys, args.region, args.session_token, args.expired_token, args.clock_skew)
    Handler.timeout = args.idle_timeout
    server = Server(("127.0.0.1", args.port), Handler)
    server.state = state
    port = server.server_address[1]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    sys.stderr.write(f"personalize_server: listening on 127.0.0.1:{port} "
                     f"({len(catalog.item_users)} items, {len(catalog.user_items)} users, "
                     f"{len(state.campaigns)} campaigns)\n")
    sys.stderr.flush()
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
