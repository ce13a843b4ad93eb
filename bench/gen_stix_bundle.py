#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Write a STIX 2.1 bundle of N objects (default 1,000,000) for bench/import.sh:
# a realistic mix of indicators, SCOs (ipv4-addr, domain-name, url, file),
# malware, relationships and sightings, pretty-printed like real feeds.
# Deterministic (seeded), streamed to the file, so memory stays small.
import json, random, sys, uuid

n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
out = open(sys.argv[1], "w")
rnd = random.Random(42)
NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")

def u():
    return str(uuid.UUID(int=rnd.getrandbits(128), version=4))

def ts(i):
    return "2024-%02d-%02dT%02d:%02d:%02d.%03dZ" % (1 + i % 12, 1 + i % 28, i % 24, i % 60, (i * 7) % 60, i % 1000)

ident = "identity--" + u()
tlp = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
recent = []
out.write('{\n  "type": "bundle",\n  "id": "bundle--%s",\n  "objects": [\n' % u())
for i in range(n):
    k = i % 10
    t = ts(i)
    if k in (0, 1, 2):
        ip = "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        o = {"type": "indicator", "spec_version": "2.1", "id": "indicator--" + u(),
             "created": t, "modified": t, "created_by_ref": ident,
             "name": "C2 address %s" % ip, "indicator_types": ["malicious-activity"],
             "pattern": "[ipv4-addr:value = '%s']" % ip, "pattern_type": "stix",
             "valid_from": t, "confidence": rnd.randint(0, 100), "object_marking_refs": [tlp]}
    elif k == 3:
        v = "198.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)
        o = {"type": "ipv4-addr", "spec_version": "2.1",
             "id": "ipv4-addr--" + str(uuid.uuid5(NS, json.dumps({"value": v}, separators=(",", ":")))),
             "value": v}
    elif k == 4:
        v = "host%d.example-%d.com" % (i, i % 97)
        o = {"type": "domain-name", "spec_version": "2.1",
             "id": "domain-name--" + str(uuid.uuid5(NS, json.dumps({"value": v}, separators=(",", ":")))),
             "value": v}
    elif k == 5:
        o = {"type": "url", "spec_version": "2.1", "id": "url--" + u(),
             "value": "https://login-%d.example.net/session?id=%d" % (i % 1000, i)}
    elif k == 6:
        h = "%032x" % rnd.getrandbits(128)
        o = {"type": "file", "spec_version": "2.1", "id": "file--" + u(),
             "name": "invoice-%d.pdf.exe" % i, "size": rnd.randint(1000, 10 ** 7),
             "hashes": {"MD5": h, "SHA-256": "%064x" % rnd.getrandbits(256)}}
    elif k == 7:
        o = {"type": "malware", "spec_version": "2.1", "id": "malware--" + u(),
             "created": t, "modified": t, "name": "Implant %d" % i, "is_family": True,
             "malware_types": ["remote-access-trojan"],
             "description": "Spear-phishing implant observed against defence suppliers; "
                            "beacons over HTTPS every %d seconds." % (60 + i % 600)}
    elif k == 8 and recent:
        o = {"type": "relationship", "spec_version": "2.1", "id": "relationship--" + u(),
             "created": t, "modified": t, "relationship_type": "indicates",
             "source_ref": recent[-1], "target_ref": "malware--" + u()}
    else:
        o = {"type": "sighting", "spec_version": "2.1", "id": "sighting--" + u(),
             "created": t, "modified": t, "count": rnd.randint(1, 50),
             "sighting_of_ref": recent[-1] if recent else "indicator--" + u(),
             "where_sighted_refs": [ident]}
    if o["type"] == "indicator":
        recent = [o["id"]]
    text = json.dumps(o, indent=2)
    out.write("    " + text.replace("\n", "\n    "))
    out.write(",\n" if i + 1 < n else "\n")
out.write("  ]\n}\n")
out.close()
