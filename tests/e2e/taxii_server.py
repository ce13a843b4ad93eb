# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of `picket serve`: the real server on a free loopback port,
# driven over HTTP with libcurl (pycurl).  Every endpoint and filter, paging under
# concurrent writers, every error status, every auth and TLP rule.  Prints
# "ok"/"FAIL" per check and ends with "N passed, N failed[, N skipped]".
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from io import BytesIO

import pycurl

PICKET = os.environ["PICKET"]
TAXII = "application/taxii+json;version=2.1"
TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
passed = failed = skipped = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name)
        if detail:
            print("  " + str(detail)[:800])
    sys.stdout.flush()
    return cond


def skip(name, why):
    global skipped
    skipped += 1
    print("SKIP %s: %s" % (name, why))


def cli(*args, db=None, input=None):
    cmd = [PICKET] + list(args) + ["--db", db or DB]
    p = subprocess.run(cmd, capture_output=True, text=True, input=input)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


class Headers(dict):
    """Response headers by case-insensitive name (the last of a repeated one)."""

    def __setitem__(self, k, v):
        super().__setitem__(k.lower(), v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)

    def __contains__(self, k):
        return super().__contains__(k.lower())


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.raw = status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None


def curl(method, url, h, data=None, reader=None, cafile=None, timeout=60):
    """One request with libcurl.  Returns Resp; status -1 when the connection
    failed or was closed before an answer (the body then says why)."""
    c = pycurl.Curl()
    out, hdrs = BytesIO(), Headers()

    def on_header(line):
        line = line.decode("iso-8859-1").rstrip("\r\n")
        if line.startswith("HTTP/"):
            hdrs.clear()
        elif ":" in line:
            k, v = line.split(":", 1)
            hdrs[k.strip()] = v.strip()

    c.setopt(pycurl.URL, url)
    c.setopt(pycurl.CUSTOMREQUEST, method)
    # no header curl would add on its own: the tests say exactly what is sent
    hl = ["Accept:", "Expect:", "User-Agent: picket-e2e"]
    hl += ["%s: %s" % (k, v) for k, v in h.items()]
    if data is not None:
        c.setopt(pycurl.POSTFIELDS, data)
        c.setopt(pycurl.POSTFIELDSIZE, len(data))
        if not any(k.lower() == "content-type" for k in h):
            hl.append("Content-Type:")
    elif reader is not None:
        c.setopt(pycurl.UPLOAD, 1)
        c.setopt(pycurl.READFUNCTION, reader)
    c.setopt(pycurl.HTTPHEADER, hl)
    c.setopt(pycurl.HEADERFUNCTION, on_header)
    c.setopt(pycurl.WRITEDATA, out)
    c.setopt(pycurl.TIMEOUT, timeout)
    if cafile:
        c.setopt(pycurl.CAINFO, cafile)
        c.setopt(pycurl.SSL_VERIFYHOST, 0)
    try:
        c.perform()
        return Resp(c.getinfo(pycurl.RESPONSE_CODE), hdrs, out.getvalue())
    except pycurl.error as e:
        code = c.getinfo(pycurl.RESPONSE_CODE)
        return Resp(code if code else -1, hdrs, out.getvalue() or str(e).encode())
    finally:
        c.close()


def http(method, path, who=None, bearer=None, body=None, accept=TAXII, ctype=TAXII,
         headers=None, base=None, cafile=None):
    url = (base or BASE) + path
    h = {}
    if accept is not None:
        h["Accept"] = accept
    if who:
        tok = TOKENS[who]
        h["Authorization"] = "Basic " + base64.b64encode(("%s:%s" % (who, tok)).encode()).decode()
    if bearer:
        h["Authorization"] = "Bearer " + bearer
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if ctype is not None:
            h["Content-Type"] = ctype
    if headers:
        h.update(headers)
    return curl(method, url, h, data=data, cafile=cafile)


def is_error(r, status):
    """A TAXII error message with the given status."""
    j = r.json or {}
    return (r.status == status and r.headers.get("Content-Type") == TAXII
            and j.get("http_status") == str(status) and bool(j.get("title")))


def ts(i=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1700000000 + i)) + ".000Z"


def indicator(i=0, tlp=None, modified=None, extra=None):
    o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + str(uuid.uuid4()),
         "created": ts(0), "modified": modified or ts(i), "name": "ind %d" % i,
         "pattern": "[ipv4-addr:value = '203.0.113.%d']" % (i % 250),
         "pattern_type": "stix", "valid_from": ts(0)}
    if tlp:
        o["object_marking_refs"] = [TLP[tlp]]
    if extra:
        o.update(extra)
    return o


def free_port_server(args, db):
    p = subprocess.Popen([PICKET, "serve", "--db", db, "--listen", "127.0.0.1:0"] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if "listening on" not in line:
        p.kill()
        raise RuntimeError("server did not start: %s %s" % (line, p.stderr.read()))
    url = line.split("listening on ")[1].strip()
    return p, url[: -len("/taxii2/")]


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return -9
    return p.returncode


TMP = tempfile.mkdtemp(prefix="picket-taxii-e2e.")
DB = os.path.join(TMP, "t.db")
LOG = os.path.join(TMP, "access.log")
TOKENS = {}
server = None
try:
    # ---- accounts, organisations, collections, grants (the CLI) ----------
    for name, org, admin in [("alice", "orgA", False), ("dave", "orgA", False),
                             ("bob", "orgB", False), ("carol", "orgC", False),
                             ("root", "ops", True)]:
        rc, out, err = cli("user", "add", name, "--org", org, *(["--admin"] if admin else []))
        check("user add %s prints a token" % name, rc == 0 and out.startswith("pkt_") and len(out) == 47, (rc, out, err))
        TOKENS[name] = out
    rc, out, err = cli("user", "add", "alice", "--org", "orgA")
    check("user add of an existing name exits 1", rc == 1 and "exists" in err, (rc, err))
    rc, out, err = cli("user", "add", "x:y", "--org", "orgA")
    check("user add refuses ':' in a name (exit 2)", rc == 2, (rc, err))
    rc, out, err = cli("user", "list", "--json")
    users = json.loads(out)
    check("user list has five accounts and no token material",
          len(users) == 5 and "pkt_" not in out and "token" not in out, out)
    raw = open(DB, "rb").read()
    check("the store holds no token in clear", all(t.encode() not in raw for t in TOKENS.values()))
    rc, X, err = cli("collection", "add", "Shared", "--description", "shared with allies", "--alias", "shared")
    check("collection add prints a UUID", rc == 0 and len(X) == 36, (rc, X, err))
    rc, Y, err = cli("collection", "add", "Private")
    rc, P, err = cli("collection", "add", "Paging")
    cli("collection", "grant", X, "--org", "orgA", "--read", "--write")
    cli("collection", "grant", X, "--org", "orgB", "--read")
    cli("collection", "grant", X, "--org", "orgC", "--read", "--write")
    cli("collection", "grant", Y, "--org", "orgA", "--read", "--write")
    cli("collection", "grant", P, "--org", "orgA", "--read", "--write")
    rc, out, err = cli("collection", "grant", "no-such", "--org", "orgA", "--read")
    check("grant on an unknown collection exits 1", rc == 1, (rc, err))
    rc, out, err = cli("user", "red-share", "orgA", "orgC")
    check("red-share orgA -> orgC", rc == 0, err)
    rc, out, err = cli("apiroot", "add", "allies", "--title", "Allied exchange")
    check("apiroot add", rc == 0, err)
    rc, out, err = cli("apiroot", "add", "bad/root")
    check("apiroot add refuses a bad path (exit 2)", rc == 2, err)
    rc, out, err = cli("collection", "list", "--json")
    cl = json.loads(out)
    check("collection list shows grants",
          any(c["id"] == X and {"org": "orgB", "read": True, "write": False} in c["grants"] for c in cl), out)

    server, BASE = free_port_server(
        ["--access-log", LOG, "--max-body", "400000", "--max-objects", "500",
         "--max-header", "4096", "--max-connections", "32", "--threads", "4"], DB)
    check("server prints its URL on a free port", BASE.startswith("http://127.0.0.1:"), BASE)

    # ---- discovery, API roots, auth -----------------------------------------
    r = http("GET", "/taxii2/")
    check("discovery needs no token (200)", r.status == 200 and r.headers["Content-Type"] == TAXII, r.raw)
    check("discovery lists both API roots, default /api/",
          r.json and r.json["api_roots"] == ["/api/", "/allies/"] and r.json["default"] == "/api/", r.raw)
    r = http("GET", "/api/")
    check("API root without a token: 401 TAXII error", is_error(r, 401) and "Basic" in r.headers.get("WWW-Authenticate", ""), r.raw)
    r = http("GET", "/api/", bearer="pkt_" + "A" * 43)
    check("a wrong Bearer token: 401", is_error(r, 401))
    r = http("GET", "/api/", headers={"Authorization": "Basic " + base64.b64encode(b"alice:" + TOKENS["bob"].encode()).decode()})
    check("Basic with another account's token: 401", is_error(r, 401))
    r = http("GET", "/api/", headers={"Authorization": "Basic !!!"})
    check("malformed Basic: 401", is_error(r, 401))
    r = http("GET", "/api/", bearer=TOKENS["alice"])
    check("Bearer token: 200", r.status == 200, r.raw)
    r = http("GET", "/api/", who="alice")
    check("API root info (Basic)", r.status == 200 and r.json["versions"] == [TAXII] and r.json["max_content_length"] == 400000, r.raw)
    r = http("GET", "/nosuch/", who="alice")
    check("unknown API root: 404", is_error(r, 404))
    r = http("GET", "/nosuch/", who=None)
    check("unknown API root without a token: 401 (nothing leaks)", is_error(r, 401))
    r = http("GET", "/api/what/ever/", who="alice")
    check("unknown resource: 404", is_error(r, 404))
    cli("user", "rotate", "dave")
    r = http("GET", "/api/", who="dave")
    check("a rotated token stops working", is_error(r, 401))
    rc, TOKENS["dave"], err = cli("user", "rotate", "dave")
    r = http("GET", "/api/", who="dave")
    check("the new token works", r.status == 200)

    # ---- collections and permissions ----------------------------------------
    r = http("GET", "/api/collections/", who="alice")
    ids = [c["id"] for c in r.json["collections"]]
    check("alice sees her three collections", ids == [X, Y, P], r.raw)
    r = http("GET", "/api/collections/", who="bob")
    check("bob sees only the shared one, read-only",
          [(c["id"], c["can_read"], c["can_write"]) for c in r.json["collections"]] == [(X, True, False)], r.raw)
    r = http("GET", "/api/collections/%s/" % X, who="bob")
    check("collection resource", r.status == 200 and r.json["title"] == "Shared" and r.json["media_types"] == ["application/stix+json;version=2.1"] and r.json["alias"] == "shared", r.raw)
    r = http("GET", "/api/collections/shared/", who="bob")
    check("a collection by its alias", r.status == 200 and r.json["id"] == X)
    r = http("GET", "/api/collections/%s/" % Y, who="bob")
    check("a collection without a grant: 404", is_error(r, 404))
    r = http("GET", "/api/collections/%s/objects/" % Y, who="bob")
    check("objects of a collection without a grant: 404", is_error(r, 404))
    r = http("GET", "/api/collections/%s/objects/" % Y, who="root")
    check("an admin reads every collection", r.status == 200)
    r = http("GET", "/allies/collections/", who="alice")
    check("an API root without collections: empty resource", r.status == 200 and r.json == {}, r.raw)
    r = http("POST", "/api/collections/%s/objects/" % X, who="bob", body={"objects": [indicator()]})
    check("POST without write access: 403", is_error(r, 403), r.raw)

    # ---- POST: valid and invalid objects in one envelope ---------------------
    objs = {t: indicator(1, tlp=t) for t in TLP}
    objs["none"] = indicator(2)
    gran = indicator(3, tlp="green", extra={
        "description": "source: a named insider",
        "granular_markings": [{"marking_ref": TLP["red"], "selectors": ["description"]}]})
    strict_gran = indicator(4, tlp="green", extra={
        "description": "amber strict detail",
        "granular_markings": [{"marking_ref": TLP["amber+strict"], "selectors": ["description"]}]})
    bad = [
        {"type": "indicator", "spec_version": "2.1", "created": ts(), "modified": ts()},
        {"type": "Indicator", "id": "Indicator--" + str(uuid.uuid4()), "spec_version": "2.1"},
        dict(indicator(5), modified="yesterday"),
        dict(indicator(6), spec_version="2.0"),
        dict(indicator(7), id="malware--" + str(uuid.uuid4())),
        "not an object",
    ]
    env = {"objects": list(objs.values()) + [gran, strict_gran] + bad}
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body=env)
    st = r.json or {}
    check("POST envelope: 202 with a status resource", r.status == 202 and r.headers["Content-Type"] == TAXII, r.raw)
    check("status counts: 8 stored, 6 failed, complete",
          st.get("status") == "complete" and st.get("total_count") == 14 and st.get("success_count") == 8
          and st.get("failure_count") == 6 and st.get("pending_count") == 0, st)
    msgs = [f.get("message", "") for f in st.get("failures", [])]
    check("each failure names its reason",
          len(msgs) == 6 and "id: missing" in msgs[0] and "type:" in msgs[1] and "modified:" in msgs[2]
          and "spec_version" in msgs[3] and "id:" in msgs[4] and "expected an object" in msgs[5], msgs)
    check("successes list ids and versions",
          sorted(s["id"] for s in st.get("successes", [])) == sorted(o["id"] for o in list(objs.values()) + [gran, strict_gran])
          and all(s.get("version") for s in st["successes"]), st.get("successes"))
    r = http("GET", "/api/status/%s/" % st.get("id"), who="alice")
    check("GET status returns the same resource", r.status == 200 and r.json == st, r.raw)
    r = http("GET", "/api/status/%s/" % st.get("id"), who="dave")
    check("a colleague of the same organisation reads the status", r.status == 200)
    r = http("GET", "/api/status/%s/" % st.get("id"), who="bob")
    check("another organisation cannot read the status: 404", is_error(r, 404))
    r = http("GET", "/api/status/%s/" % uuid.uuid4(), who="alice")
    check("unknown status: 404", is_error(r, 404))
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body=env)
    check("re-POSTing the same objects is idempotent",
          r.json and r.json["success_count"] == 8 and all(s.get("message") == "already in the collection" for s in r.json["successes"]), r.raw)

    def names(who, oid, q="", coll=None, base=None):
        """The names of object oid's versions in a whole-collection listing."""
        r = http("GET", "/api/collections/%s/objects/?limit=1000%s" % (coll or X, q), who=who, base=base)
        return [o["name"] for o in (r.json or {}).get("objects", []) if o["id"] == oid]

    # ---- TLP on every read path ------------------------------------------------
    def visible(who, path="/api/collections/%s/objects/" % X, q="?limit=1000"):
        r = http("GET", path + q, who=who)
        return {o["id"] for o in (r.json or {}).get("objects", [])}

    everyone = {objs[t]["id"] for t in ("clear", "green", "amber", "none")} | {gran["id"], strict_gran["id"]}
    red, strict = objs["red"]["id"], objs["amber+strict"]["id"]
    check("writer's org (alice) sees everything", visible("alice") == everyone | {red, strict})
    check("a colleague (dave) sees RED and AMBER+STRICT", visible("dave") == everyone | {red, strict})
    check("reader org (bob) sees CLEAR, GREEN, AMBER, unmarked only", visible("bob") == everyone, visible("bob"))
    check("RED-shared org (carol) sees RED but not AMBER+STRICT", visible("carol") == everyone | {red})
    check("an admin of another org does not see RED", red not in visible("root") and strict not in visible("root"))
    mf = visible("bob", "/api/collections/%s/manifest/" % X)
    check("manifest hides RED and AMBER+STRICT from bob", mf == everyone, mf)
    for oid, label in ((red, "RED"), (strict, "AMBER+STRICT")):
        r = http("GET", "/api/collections/%s/objects/%s/" % (X, oid), who="bob")
        check("bob: object by id of %s is 404" % label, is_error(r, 404), r.raw)
        r = http("GET", "/api/collections/%s/objects/%s/versions/" % (X, oid), who="bob")
        check("bob: versions of %s is 404" % label, is_error(r, 404))
        for q in ("?match[id]=%s" % oid, "?match[type]=indicator&match[id]=%s" % oid,
                  "?match[version]=all&match[id]=%s" % oid, "?match[version]=first,last&match[id]=%s" % oid,
                  "?added_after=2000-01-01T00:00:00Z&match[id]=%s" % oid, "?match[spec_version]=2.1&match[id]=%s" % oid):
            check("bob: %s never through objects%s" % (label, q), visible("bob", q=q) == set())
            check("bob: %s never through manifest%s" % (label, q), visible("bob", "/api/collections/%s/manifest/" % X, q) == set())
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, red), who="carol")
    check("carol: RED object by id", r.status == 200 and r.json["objects"][0]["id"] == red)
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, gran["id"]), who="bob")
    check("granular RED property dropped for bob", r.status == 200 and "description" not in r.json["objects"][0] and r.json["objects"][0]["name"] == gran["name"], r.raw)
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, gran["id"]), who="carol")
    check("granular RED property kept for carol (shared)", r.json["objects"][0].get("description") == gran["description"])
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, strict_gran["id"]), who="carol")
    check("granular AMBER+STRICT property dropped for carol", "description" not in r.json["objects"][0])
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, strict_gran["id"]), who="dave")
    check("granular AMBER+STRICT property kept for the writer's org", r.json["objects"][0].get("description") == strict_gran["description"])
    r = http("GET", "/api/collections/%s/objects/?limit=1000" % X, who="bob")
    check("granular RED property dropped in listings too",
          all("description" not in o for o in r.json["objects"] if o["id"] in (gran["id"], strict_gran["id"])))
    cli("user", "red-share", "orgA", "orgC", "--revoke")
    check("after revoking the share carol no longer sees RED", red not in visible("carol"))
    cli("user", "red-share", "orgA", "orgC")
    # review fixes: a version's id cannot be claimed by another writer
    forged = dict(objs["red"])
    del forged["object_marking_refs"]
    r = http("POST", "/api/collections/%s/objects/" % X, who="carol", body={"objects": [forged]})
    check("POSTing another's id and version with other content is a failure",
          r.json and r.json["failure_count"] == 1 and "conflicts" in r.json["failures"][0]["message"], r.raw)
    cli("user", "red-share", "orgA", "orgC", "--revoke")
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, red), who="carol")
    check("... and the RED object stays hidden from the forger", is_error(r, 404), r.raw)
    for q in ("", "versions/"):
        r = http("GET", "/api/collections/%s/objects/%s/%s" % (X, red, q), who="bob")
        check("... and from every other reader (%s)" % (q or "object"), is_error(r, 404))
    cli("user", "red-share", "orgA", "orgC")
    both = indicator(8, tlp="green", extra={
        "description": "red detail", "name": "strict name",
        "granular_markings": [{"marking_ref": TLP["red"], "selectors": ["description"]},
                              {"marking_ref": TLP["amber+strict"], "selectors": ["name"]}]})
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": [both]})
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, both["id"]), who="carol")
    o = r.json["objects"][0] if r.json and r.json.get("objects") else {}
    check("RED-shared org: granular RED kept, granular AMBER+STRICT dropped",
          o.get("description") == "red detail" and "name" not in o, o)
    # match[version]=last among the versions the reader may see
    mixed = indicator(20, tlp="green")
    mixed_red = dict(mixed, modified=ts(21), object_marking_refs=[TLP["red"]], name="red v2")
    http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": [mixed, mixed_red]})
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, mixed["id"]), who="bob")
    check("a newer RED version does not hide the GREEN one from bob",
          r.status == 200 and [o["name"] for o in r.json.get("objects", [])] == [mixed["name"]], r.raw)
    r = http("GET", "/api/collections/%s/objects/%s/" % (X, mixed["id"]), who="dave")
    check("... while the writer's org gets the RED one as the latest",
          [o["name"] for o in r.json.get("objects", [])] == ["red v2"], r.raw)
    # a newer version put in by `picket import` counts for "last"
    newer = dict(mixed, modified=ts(22), name="imported v3")
    path = os.path.join(TMP, "newer.json")
    with open(path, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": [newer]}, f)
    rc, out, err = cli("import", "--collection", X, path)
    r = http("GET", "/api/collections/%s/objects/?match[id]=%s" % (X, mixed["id"]), who="bob")
    check("after picket import of a newer version, only it is the latest",
          rc == 0 and [o["name"] for o in r.json.get("objects", [])] == ["imported v3"], (rc, err, r.raw))
    check("... and in a whole-collection listing, for every reader",
          all(names(w, mixed["id"]) == ["imported v3"] for w in ("bob", "dave", "carol")),
          [names(w, mixed["id"]) for w in ("bob", "dave", "carol")])
    # The same rules in whole-collection listings (a range of the store's
    # per-version rows, where only objects with a restricted version are
    # looked at per reader).
    def newer_over(older_tlp, newer_tlp, n):
        o1 = indicator(n, tlp=older_tlp, extra={"name": "%s v1" % older_tlp})
        o2 = dict(o1, modified=ts(n + 1), object_marking_refs=[TLP[newer_tlp]], name="%s v2" % newer_tlp)
        r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": [o1, o2]})
        check("POST %s over %s" % (newer_tlp, older_tlp), r.json and r.json["success_count"] == 2, r.raw)
        return o1["id"]
    red_over = newer_over("green", "red", 30)
    strict_over = newer_over("green", "amber+strict", 32)
    red_under = newer_over("red", "green", 34)
    for who, want in (("bob", ["green v1"]), ("carol", ["red v2"]), ("dave", ["red v2"]), ("root", ["green v1"])):
        check("listing: %s gets %s as the last of RED over GREEN" % (who, want), names(who, red_over) == want,
              names(who, red_over))
    for who, want in (("bob", ["green v1"]), ("carol", ["green v1"]), ("dave", ["amber+strict v2"])):
        check("listing: %s gets %s as the last of AMBER+STRICT over GREEN" % (who, want),
              names(who, strict_over) == want, names(who, strict_over))
    for who, want in (("bob", ["green v2"]), ("dave", ["red v1"])):
        check("listing: %s gets %s as the first of GREEN over RED" % (who, want),
              names(who, red_under, "&match[version]=first") == want, names(who, red_under, "&match[version]=first"))
    check("listing: bob gets GREEN over RED as the last too", names("bob", red_under) == ["green v2"])
    check("listing: match[version]=all hides only what bob may not see",
          names("bob", red_over, "&match[version]=all") == ["green v1"]
          and sorted(names("dave", red_over, "&match[version]=all")) == ["green v1", "red v2"])
    check("listing: match[version]=first,last for bob is the one GREEN version once",
          names("bob", red_over, "&match[version]=first,last") == ["green v1"])
    r = http("GET", "/api/collections/%s/manifest/?limit=1000" % X, who="bob")
    check("manifest: bob gets the GREEN version of RED over GREEN",
          [m["version"] for m in r.json["objects"] if m["id"] == red_over] == [ts(30)], r.raw[:300])
    r = http("DELETE", "/api/collections/%s/objects/%s/?match[version]=%s" % (X, red_over, ts(31)), who="alice")
    check("DELETE the RED version: 200", r.status == 200, r.raw)
    check("... then the GREEN one is the last for the writer's org in a listing",
          names("dave", red_over) == ["green v1"] and names("bob", red_over) == ["green v1"])
    rc, out, err = cli("user", "red-share", "orgA", "no-such-org", "--revoke")
    check("red-share --revoke with an unknown org exits 1", rc == 1 and "no organisation" in err, (rc, err))
    rc, out, err = cli("collection", "grant", X, "--org", "no-such-org")
    check("grant revoke for an unknown org exits 1", rc == 1, (rc, err))
    rc, out, err = cli("collection", "grant", Y, "--org", "orgB")
    check("grant revoke where there is no grant exits 1", rc == 1 and "no grant" in err, (rc, err))
    rc, out, err = cli("collection", "list", "--json")
    check("revokes created no organisation", "no-such-org" not in out)

    # ---- versions and version filters ----------------------------------------
    base = indicator(10, tlp="green")
    vers = [dict(base, modified=ts(10 + k), name="v%d" % k) for k in range(3)]
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": [vers[2], vers[0], vers[1]]})
    check("three versions stored", r.json and r.json["success_count"] == 3, r.raw)
    oid = base["id"]
    op = "/api/collections/%s/objects/%s/" % (X, oid)
    r = http("GET", op + "versions/", who="bob")
    check("versions lists all three in date_added order", r.status == 200 and r.json["versions"] == [ts(12), ts(10), ts(11)] and r.json["more"] is False, r.raw)
    r = http("GET", op + "versions/?limit=2", who="bob")
    check("versions pages", r.json["versions"] == [ts(12), ts(10)] and r.json["more"] is True and r.json["next"])
    r2 = http("GET", op + "versions/?limit=2&next=" + r.json["next"], who="bob")
    check("versions next page", r2.json["versions"] == [ts(11)] and r2.json["more"] is False, r2.raw)
    r = http("GET", op, who="bob")
    check("object by id: latest by default", [o["name"] for o in r.json["objects"]] == ["v2"], r.raw)
    r = http("GET", op + "?match[version]=first", who="bob")
    check("match[version]=first", [o["name"] for o in r.json["objects"]] == ["v0"])
    check("listing: the latest of three versions, once", names("bob", oid) == ["v2"], names("bob", oid))
    check("listing: match[version]=first", names("bob", oid, "&match[version]=first") == ["v0"])

    r = http("GET", op + "?match[version]=all", who="bob")
    check("match[version]=all", sorted(o["name"] for o in r.json["objects"]) == ["v0", "v1", "v2"])
    r = http("GET", op + "?match[version]=first,last", who="bob")
    check("match[version]=first,last", sorted(o["name"] for o in r.json["objects"]) == ["v0", "v2"])
    r = http("GET", op + "?match[version]=" + ts(11), who="bob")
    check("match[version]=TIMESTAMP", [o["name"] for o in r.json["objects"]] == ["v1"])
    r = http("GET", op + "?match[version]=2001-01-01T00:00:00Z", who="bob")
    check("match[version] with no such version: empty envelope", r.status == 200 and r.json == {"more": False}, r.raw)
    r = http("GET", op + "?match[spec_version]=2.0", who="bob")
    check("match[spec_version]=2.0: none", r.json == {"more": False})
    r = http("GET", "/api/collections/%s/objects/?match[id]=%s,%s&match[version]=all" % (X, oid, objs["clear"]["id"]), who="bob")
    check("match[id] list with match[version]=all", len(r.json["objects"]) == 4)
    r = http("GET", "/api/collections/%s/objects/?match[type]=malware" % X, who="bob")
    check("match[type] with no objects of the type", r.json == {"more": False})
    r = http("GET", "/api/collections/%s/objects/?match[type]=indicator,malware&match[spec_version]=2.1&limit=1000" % X, who="bob")
    check("match[type] list + spec_version", len(r.json["objects"]) == len(everyone) + 6, len(r.json["objects"]))
    r = http("GET", "/api/collections/%s/manifest/?match[id]=%s&match[version]=all" % (X, oid), who="bob")
    mv = r.json["objects"]
    check("manifest records: id, date_added, version, media_type",
          [m["version"] for m in mv] == [ts(12), ts(10), ts(11)] and all(m["media_type"] == "application/stix+json;version=2.1" and m["id"] == oid and m["date_added"].endswith("Z") for m in mv), r.raw)
    r = http("GET", "/api/collections/%s/objects/?added_after=%s&match[version]=all" % (X, mv[0]["date_added"]), who="bob")
    check("added_after is exclusive", [o["name"] for o in r.json["objects"]] == ["v0", "v1"], r.raw)
    check("X-TAXII-Date-Added-First/Last headers",
          r.headers["X-TAXII-Date-Added-First"] == mv[1]["date_added"] and r.headers["X-TAXII-Date-Added-Last"] == mv[2]["date_added"],
          (r.headers["X-TAXII-Date-Added-First"], mv))
    r = http("GET", "/api/collections/%s/objects/?added_after=2999-01-01T00:00:00Z" % X, who="bob")
    check("no objects: no Date-Added headers", r.json == {"more": False} and "X-TAXII-Date-Added-First" not in r.headers)

    # ---- bad filters: 400 ------------------------------------------------------
    for q, why in (("limit=0", "limit"), ("limit=abc", "limit"), ("limit=-5", "limit"),
                   ("added_after=yesterday", "added_after"), ("match[foo]=x", "match[foo]"),
                   ("next=xyz", "next"), ("match[id]=nonsense", "match[id]"),
                   ("match[type]=Bad_Type", "match[type]"), ("match[version]=latest", "match[version]"),
                   ("match[spec_version]=3.0", "match[spec_version]"), ("match[type]=a,,b", "match[type]")):
        r = http("GET", "/api/collections/%s/objects/?%s" % (X, q), who="bob")
        check("400 for %s" % q, is_error(r, 400) and why in r.json["description"], r.raw)
    r = http("GET", op + "versions/?match[type]=indicator", who="bob")
    check("400 for a filter the versions endpoint does not take", is_error(r, 400))
    r = http("GET", op + "?match[id]=" + oid, who="bob")
    check("400 for match[id] on the object endpoint", is_error(r, 400))
    r = http("GET", "/api/collections/%s/objects/?unknown=1&limit=1" % X, who="bob")
    check("unknown plain parameters are ignored", r.status == 200)

    # ---- content negotiation ----------------------------------------------------
    for acc in ("application/json", "text/html", "application/taxii+json;version=2.0",
                "application/stix+json;version=2.1", "application/taxii+json;q=0"):
        r = http("GET", "/api/collections/", who="bob", accept=acc)
        check("406 for Accept: %s" % acc, is_error(r, 406), r.raw)
    for acc in (None, "*/*", "application/*", "application/taxii+json",
                "text/html, application/taxii+json; version=2.1", "application/TAXII+json;version=\"2.1\""):
        r = http("GET", "/api/collections/", who="bob", accept=acc)
        check("200 for Accept: %s" % acc, r.status == 200, r.raw)
    r = http("GET", "/taxii2/", accept="text/html")
    check("discovery: 406 too", is_error(r, 406))
    for ct in ("application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0", None):
        r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": []}, ctype=ct)
        check("415 for Content-Type: %s" % ct, is_error(r, 415), r.raw)
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": []}, ctype="application/taxii+json")
    check("Content-Type without version is 2.1", r.status == 202)

    # ---- methods and bodies -----------------------------------------------------
    r = http("PUT", "/api/collections/%s/objects/" % X, who="alice", body={"objects": []})
    check("405 with Allow for PUT on objects", is_error(r, 405) and r.headers.get("Allow") == "GET, POST", r.raw)
    r = http("POST", "/taxii2/", body={})
    check("405 for POST on discovery", is_error(r, 405))
    r = http("DELETE", "/api/collections/%s/" % X, who="alice")
    check("405 for DELETE on a collection", is_error(r, 405) and r.headers.get("Allow") == "GET")
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body=b"{not json")
    check("400 for a body that is not JSON", is_error(r, 400) and "not JSON" in r.json["description"], r.raw)
    before = len(http("GET", "/api/collections/%s/objects/?limit=1000&match[version]=all" % X, who="alice").json["objects"])
    trunc = json.dumps({"objects": [indicator(70), indicator(71)]})[:-30].encode()
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body=trunc)
    after = len(http("GET", "/api/collections/%s/objects/?limit=1000&match[version]=all" % X, who="alice").json["objects"])
    check("400 for a truncated envelope, and nothing of it is stored", is_error(r, 400) and before == after, (r.raw, before, after))
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"type": "bundle"})
    check("400 for JSON that is not an envelope", is_error(r, 400))
    r = http("GET", "/api/collections/%s/objects/not-an-id/" % X, who="alice")
    check("404 for an object path that is not a STIX id", is_error(r, 404))

    # ---- limits: 413, 431, 429 ----------------------------------------------------
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body={"objects": [indicator(i) for i in range(501)]})
    check("413 for more objects than --max-objects", is_error(r, 413) and "500" in r.json["description"], r.raw[:300])
    big = {"objects": [indicator(1, extra={"description": "x" * 500000})]}
    r = http("POST", "/api/collections/%s/objects/" % X, who="alice", body=big)
    check("413 for a body larger than --max-body", is_error(r, 413), r.raw[:300])
    # the same, streamed in chunks without Content-Length
    left = [60]

    def chunks(size):
        if not left[0]:
            return b""
        left[0] -= 1
        return b" " * min(size, 10000)
    r = curl("POST", BASE + "/api/collections/%s/objects/" % X,
             {"Accept": TAXII, "Content-Type": TAXII, "Transfer-Encoding": "chunked",
              "Authorization": "Bearer " + TOKENS["alice"]}, reader=chunks, timeout=30)
    st_code, body = r.status, r.raw
    check("413 for a chunked body past --max-body", st_code == 413 and b'"http_status":"413"' in body, (st_code, body[:200]))
    r = http("GET", "/api/", who="alice", headers={"X-Padding": "p" * 5000})
    check("431 for headers larger than --max-header", is_error(r, 431), r.raw)
    # Past libmicrohttpd's per-connection buffer (twice --max-header plus 32 KiB)
    # it answers 431 itself, with its own HTML body (no hook to replace it);
    # the request still reaches the access log.
    r = http("GET", "/api/?padded=1", who="alice", headers={"X-Padding": "p" * 60000})
    time.sleep(0.2)
    with open(LOG) as f:
        refused = [json.loads(l) for l in f if '"refused"' in l]
    check("431 from libmicrohttpd past its buffer, logged as refused",
          r.status == 431 and any(e["path"] == "/api/" and e["status"] == 0 for e in refused),
          (r.status, refused))
    # (32, not fewer: closed connections are counted until the server has
    # seen them close, and the concurrent adders below open many)
    socks = []
    for _ in range(33):
        s = socket.create_connection(("127.0.0.1", int(BASE.rsplit(":", 1)[1])))
        socks.append(s)
    time.sleep(0.3)
    r = http("GET", "/api/", who="alice")
    check("429 past --max-connections, with Retry-After", is_error(r, 429) and r.headers.get("Retry-After") == "1", r.raw)
    for s in socks:
        s.close()
    time.sleep(0.3)
    r = http("GET", "/api/", who="alice")
    check("answers again once connections close", r.status == 200, r.raw)

    # ---- DELETE ---------------------------------------------------------------
    r = http("DELETE", op, who="bob")
    check("DELETE without write access: 403", is_error(r, 403))
    r = http("DELETE", op, who="carol")
    check("DELETE of another organisation's object: 404", is_error(r, 404))
    r = http("DELETE", op + "?match[version]=" + ts(11), who="alice")
    check("DELETE one version", r.status == 200)
    r = http("GET", op + "versions/", who="alice")
    check("two versions left", r.json["versions"] == [ts(12), ts(10)], r.raw)
    r = http("DELETE", op + "?match[version]=last", who="alice")
    r = http("GET", op, who="alice")
    check("after deleting the last version the first is the latest", [o["name"] for o in r.json["objects"]] == ["v0"], r.raw)
    r = http("DELETE", op, who="alice")
    check("DELETE every version", r.status == 200)
    r = http("GET", op, who="alice")
    check("a deleted object is 404", is_error(r, 404))
    many = indicator(0, tlp="green")
    for part in range(3):
        batch = [dict(many, modified=ts(1000 + part * 400 + k)) for k in range(400)]
        http("POST", "/api/collections/%s/objects/" % Y, who="alice", body={"objects": batch})
    mp = "/api/collections/%s/objects/%s/" % (Y, many["id"])
    r = http("DELETE", mp, who="alice")
    check("DELETE of 1200 versions: 200", r.status == 200, r.raw)
    r = http("GET", mp + "versions/", who="alice")
    check("... and none is left", is_error(r, 404), r.raw[:200])
    r = http("DELETE", "/api/collections/%s/objects/%s/" % (X, red), who="bob")
    check("bob cannot even find a RED object to delete", is_error(r, 403) or is_error(r, 404))

    # ---- paging across thousands of objects with concurrent adders -------------
    bundle = os.path.join(TMP, "bulk.json")
    pre = [indicator(i, tlp=("red" if i % 7 == 0 else "green")) for i in range(3000)]
    with open(bundle, "w") as f:
        json.dump({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": pre}, f)
    rc, out, err = cli("collection", "import", P, bundle, "--org", "orgA")
    check("collection import of 3000 objects", rc == 0 and out == "stored 3000, rejected 0", (rc, out, err))
    added, add_err = [], []

    def adder(k):
        for b in range(10):
            batch = [indicator(100000 + k * 1000 + b * 50 + j) for j in range(50)]
            r = http("POST", "/api/collections/%s/objects/" % P, who="alice", body={"objects": batch})
            if r.status != 202 or r.json["success_count"] != 50:
                add_err.append(r.raw)
            added.extend(o["id"] for o in batch)

    seen, cursor, after, pages = [], None, None, 0
    threads = [threading.Thread(target=adder, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    # Page with `next`; at the end, poll on with added_after = the last
    # X-TAXII-Date-Added-Last, as a TAXII client does, until the adders are done
    # and a poll begun after that finds nothing.
    while True:
        done = all(not t.is_alive() for t in threads)
        q = "?limit=97" + ("&next=" + cursor if cursor else "&added_after=" + after if after else "")
        r = http("GET", "/api/collections/%s/objects/%s" % (P, q), who="dave")
        if r.status != 200:
            break
        pages += 1
        got = [o["id"] for o in r.json.get("objects", [])]
        seen.extend(got)
        if got:
            after = r.headers["X-TAXII-Date-Added-Last"]
        if r.json["more"]:
            cursor = r.json["next"]
            continue
        cursor = None
        if not got and done:
            break
        if not got:
            time.sleep(0.05)
    for t in threads:
        t.join()
    check("adders all acknowledged", not add_err and len(added) == 1500, add_err[:1])
    check("paging with adders: no object seen twice", len(seen) == len(set(seen)), len(seen) - len(set(seen)))
    check("paging with adders: every object seen (4500)", set(seen) == {o["id"] for o in pre} | set(added),
          (len(set(seen)), len(pre) + len(added)))
    check("paging took many pages", pages >= 40, pages)
    r = http("GET", "/api/collections/%s/objects/?limit=100000" % P, who="bob")
    check("bob has no grant on the paging collection: 404", is_error(r, 404))
    cli("collection", "grant", P, "--org", "orgB", "--read")
    bob_seen, cursor = [], None
    while True:
        r = http("GET", "/api/collections/%s/manifest/?limit=500%s" % (P, "&next=" + cursor if cursor else ""), who="bob")
        bob_seen.extend(m["id"] for m in r.json.get("objects", []))
        if not r.json["more"]:
            break
        cursor = r.json["next"]
    reds = {o["id"] for i, o in enumerate(pre) if i % 7 == 0}
    check("paging the manifest as bob: every page full, no RED ever",
          not (set(bob_seen) & reds) and len(bob_seen) == 4500 - len(reds), (len(bob_seen), len(set(bob_seen) & reds)))
    r = http("GET", "/api/collections/%s/objects/?limit=5000" % P, who="dave")
    check("limit is capped at --page-max (1000)", len(r.json["objects"]) == 1000 and r.json["more"] is True)

    # ---- the access log ------------------------------------------------------------
    lines = [json.loads(l) for l in open(LOG)]
    check("access log: one JSON line per request with status and account",
          len(lines) > 100 and all({"time", "remote", "method", "path", "status", "ms", "account"} <= set(l) for l in lines))
    check("access log: 401s have no account, and no token is logged",
          any(l["status"] == 401 and l["account"] is None for l in lines)
          and all(t not in open(LOG).read() for t in TOKENS.values()))

    # ---- graceful stop: a request in flight completes --------------------------
    res = {}

    def slow_post():
        res["r"] = http("POST", "/api/collections/%s/objects/" % P, who="alice",
                        body={"objects": [indicator(900000 + j) for j in range(500)]})

    t = threading.Thread(target=slow_post)
    t.start()
    time.sleep(0.05)
    rc = stop(server)
    t.join()
    check("SIGTERM: the server exits 0", rc == 0, rc)
    r = res.get("r")
    check("SIGTERM: the POST in flight was answered 202 (or never started)",
          r is None or r.status == 202 or r.status == -1, r and r.raw[:200])
    server = None

    # ---- TLS -----------------------------------------------------------------------
    key, crt = os.path.join(TMP, "k.pem"), os.path.join(TMP, "c.pem")
    g = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "1", "-subj", "/CN=127.0.0.1"], capture_output=True)
    if g.returncode != 0:
        skip("TLS", "openssl could not make a test certificate")
    else:
        server, tbase = free_port_server(["--tls-cert", crt, "--tls-key", key, "--commit", "fast"], DB)
        r = http("GET", "/api/collections/", who="alice", base=tbase, cafile=crt)
        check("TLS: https URL and an authenticated request", tbase.startswith("https://") and r.status == 200, r.raw)
        check("TLS: the store kept every acknowledged object",
              len(http("GET", "/api/collections/%s/objects/?limit=1000&match[type]=indicator" % P, who="alice", base=tbase, cafile=crt).json["objects"]) == 1000)
        r = http("POST", "/api/collections/%s/objects/" % P, who="alice", body={"objects": [indicator(777001)]},
                 base=tbase, cafile=crt)
        check("TLS with --commit fast: a POST is acknowledged", r.status == 202 and r.json["success_count"] == 1, r.raw)
        check("TLS: stop exits 0", stop(server) == 0)
        server = None

    # ---- a store of taxii schema 2 (writer rows, no per-version entries) is
    # migrated on open and answers as before -------------------------------------
    import sqlite3
    old = os.path.join(TMP, "old.db")
    src, dst = sqlite3.connect(DB), sqlite3.connect(old)
    src.backup(dst)
    src.close()
    dst.executescript("""
        CREATE TABLE taxii_writer(coll TEXT NOT NULL, obj INTEGER NOT NULL, org INTEGER NOT NULL,
          granular INTEGER NOT NULL, latest INTEGER NOT NULL DEFAULT 1,
          first INTEGER NOT NULL DEFAULT 1, PRIMARY KEY(coll, obj)) WITHOUT ROWID;
        INSERT INTO taxii_writer(coll, obj, org, granular)
          SELECT coll, obj, org, granular FROM taxii_entry WHERE org <> 0;
        DROP TRIGGER taxii_entry_add; DROP TRIGGER taxii_entry_drop;
        DROP TRIGGER taxii_entry_versions; DROP TABLE taxii_entry;
        UPDATE schema_version SET version = 2 WHERE module = 'taxii';""")
    dst.commit()
    dst.close()
    server, obase = free_port_server([], old)
    check("migrated store: RED over GREEN, last per reader",
          names("bob", red_under, base=obase) == ["green v2"] and names("dave", red_under, "&match[version]=first", base=obase) == ["red v1"]
          and names("bob", red_under, "&match[version]=first", base=obase) == ["green v2"],
          (names("bob", red_under, base=obase), names("dave", red_under, "&match[version]=first", base=obase)))
    check("migrated store: AMBER+STRICT over GREEN per reader",
          names("carol", strict_over, base=obase) == ["green v1"] and names("dave", strict_over, base=obase) == ["amber+strict v2"])
    check("migrated store: a version put in by import is the last",
          all(names(w, mixed["id"], base=obase) == ["imported v3"] for w in ("bob", "dave")))
    r = http("GET", "/api/collections/%s/objects/?limit=1000" % X, who="bob", base=obase)
    seen = {o["id"]: o for o in r.json["objects"]}
    check("migrated store: bob still sees no RED and no AMBER+STRICT, nor granular RED",
          red not in seen and strict not in seen and "description" not in seen[gran["id"]], sorted(seen))
    r = http("GET", "/api/collections/%s/objects/?limit=1000" % X, who="dave", base=obase)
    seen = {o["id"]: o for o in r.json["objects"]}
    check("migrated store: the writer's organisation kept (dave sees RED and granular RED)",
          red in seen and strict in seen and seen[gran["id"]].get("description") == gran["description"], sorted(seen))
    check("migrated store: stop exits 0", stop(server) == 0)
    server = None
    p = subprocess.run([PICKET, "serve", "--db", DB, "--listen", "127.0.0.1:0", "--tls-cert", crt],
                       capture_output=True, text=True, timeout=30)
    check("--tls-cert without --tls-key is a usage error", p.returncode == 2 and "tls-key" in p.stderr, p.stderr)
    p = subprocess.run([PICKET, "serve", "--db", DB, "--listen", "nonsense"], capture_output=True, text=True, timeout=30)
    check("a bad --listen is a usage error", p.returncode == 2, p.stderr)
    p = subprocess.run([PICKET, "serve", "--db", DB, "--listen", "127.0.0.1:0", "--commit", "later"],
                       capture_output=True, text=True, timeout=30)
    check("--commit other than sync or fast is a usage error", p.returncode == 2 and "sync or fast" in p.stderr, p.stderr)
finally:
    if server is not None:
        stop(server)
    shutil.rmtree(TMP, ignore_errors=True)

if skipped:
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
else:
    print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
