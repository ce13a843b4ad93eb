#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Generator for bench/pattern.sh: N_PAT indicator patterns (a third IPv4, a
# third domain name, a third file SHA-256) and N_OBS STIX 2.1 observed-data
# objects, each referring to one SCO of the same three kinds.  About one
# pattern in ten has a value that occurs in the data.  Deterministic (seeded).
import hashlib, json, random, sys

out_dir = sys.argv[1]
n_pat = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
n_obs = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
rnd = random.Random(20261129)

def uuid():
    return "%08x-%04x-4%03x-8%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16),
                                            rnd.getrandbits(12), rnd.getrandbits(12),
                                            rnd.getrandbits(48))

def ip(i):
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)

def dom(i):
    return "host%d.example%d.test" % (i, i % 97)

def sha(i):
    return hashlib.sha256(str(i).encode()).hexdigest()

objects = []
for i in range(n_obs):
    kind = i % 3
    if kind == 0:
        sco = {"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--" + uuid(), "value": ip(i)}
    elif kind == 1:
        sco = {"type": "domain-name", "spec_version": "2.1", "id": "domain-name--" + uuid(), "value": dom(i)}
    else:
        sco = {"type": "file", "spec_version": "2.1", "id": "file--" + uuid(), "name": "f%d.bin" % i,
               "hashes": {"SHA-256": sha(i)}}
    t = "2026-01-%02dT%02d:%02d:%02dZ" % (1 + i % 28, i % 24, i % 60, (i * 7) % 60)
    objects.append({"type": "observed-data", "spec_version": "2.1", "id": "observed-data--" + uuid(),
                    "created": t.replace("Z", ".000Z"), "modified": t.replace("Z", ".000Z"),
                    "first_observed": t, "last_observed": t, "number_observed": 1,
                    "object_refs": [sco["id"]]})
    objects.append(sco)
with open(out_dir + "/observed.json", "w") as f:
    json.dump({"type": "bundle", "id": "bundle--" + uuid(), "objects": objects}, f)

with open(out_dir + "/patterns.txt", "w") as f:
    for j in range(n_pat):
        kind = j % 3
        # one in ten hits an observed value; the rest are absent from the data
        i = (rnd.randrange(n_obs // 3) * 3 + kind) if j % 10 == 0 else n_obs * 10 + j
        if kind == 0:
            f.write("[ipv4-addr:value = '%s']\n" % ip(i))
        elif kind == 1:
            f.write("[domain-name:value = '%s']\n" % dom(i))
        else:
            f.write("[file:hashes.'SHA-256' = '%s']\n" % sha(i))
