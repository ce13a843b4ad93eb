#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Writes the rule files tests/cases/pattern/NN-*.json (observations, patterns and
# the expected observed-data ids or error column).  Run it after editing a rule:
#   python3 tests/cases/pattern/gen.py
import json, os
OUT=os.path.dirname(os.path.abspath(__file__))
n=[0]
def uid(t):
    n[0]+=1
    return "%s--00000000-0000-4000-8000-%012d" % (t, n[0])
def od(name, first, objs, last=None, number=1):
    """2.1 observed-data named `name` (id observed-data--<name>) referring to objs"""
    o={"type":"observed-data","spec_version":"2.1","id":"observed-data--"+name,
       "created":"2020-01-01T00:00:00.000Z","modified":"2020-01-01T00:00:00.000Z",
       "first_observed":first,"last_observed":last or first,"number_observed":number,
       "object_refs":[x["id"] for x in objs]}
    return [o]+objs
def sco(t, **kw):
    d={"type":t,"id":kw.pop("id",None) or uid(t)}
    d.update(kw); return d
def write(fname, rule, observations, cases, spec=None):
    doc={"rule":rule}
    if spec: doc["spec"]=spec
    doc["observations"]=observations
    doc["cases"]=cases
    with open(os.path.join(OUT,fname),'w') as f:
        json.dump(doc,f,indent=1,ensure_ascii=False); f.write("\n")
def M(p,*ids): return {"pattern":p,"match":["observed-data--"+i for i in ids]}
def E(p,col): return {"pattern":p,"error":col}
T0="2020-03-01T10:00:00Z"

# 01 equality
obs = od("f1",T0,[sco("file",name="report.pdf",size=1280,x_ratio=0.5,x_signed=True,x_port_text="443")]) + \
      od("f2",T0,[sco("file",name="Report.pdf",size=99)])
write("01-equality.json","= and != compare a property with a constant of the same type; strings are case sensitive; a string never equals a number (no coercion), so != between them holds; a comparison on a missing property is false, with or without NOT.",obs,[
 M("[file:name = 'report.pdf']","f1"),
 M("[file:name = 'REPORT.PDF']"),
 M("[file:name != 'report.pdf']","f2"),
 M("[file:name NOT = 'report.pdf']","f2"),
 M("[file:size = 1280]","f1"),
 M("[file:size = 1280.0]","f1"),
 M("[file:x_ratio = 0.5]","f1"),
 M("[file:x_signed = true]","f1"),
 M("[file:x_signed != false]","f1"),
 M("[file:x_signed = 'true']"),
 M("[file:size = '1280']"),
 M("[file:x_port_text = 443]"),
 M("[file:x_port_text = '443']","f1"),
 M("[file:missing != 'x']"),
 M("[file:size != 'x']","f1","f2"),
 M("[file:size NOT = 'x']","f1","f2"),
 M("[file:missing NOT = 'x']"),
 M("[domain-name:value = 'report.pdf']"),
])
# 02 ordering
obs = od("a",T0,[sco("file",name="alpha",size=10,x_seen="2020-01-01T00:00:00Z",x_score=2.5)]) + \
      od("b",T0,[sco("file",name="beta",size=20,x_seen="2021-06-01T12:00:00.5Z",x_score=-1)]) + \
      od("u",T0,[sco("file",name="\u00e9t\u00e9",size=30)])
write("02-ordering.json","<, <=, > and >= order numbers numerically (integers and floats together), strings by code point, and t'' timestamps against timestamp-valued properties; a string constant against a number property (or the reverse) is false.",obs,[
 M("[file:size < 20]","a"),
 M("[file:size <= 20]","a","b"),
 M("[file:size > 10]","b","u"),
 M("[file:size >= 10.5]","b","u"),
 M("[file:size NOT > 10]","a"),
 M("[file:x_score > 0]","a"),
 M("[file:x_score < -0.5]","b"),
 M("[file:name < 'b']","a"),
 M("[file:name > 'z']","u"),
 M("[file:name >= 'beta']","b","u"),
 M("[file:size > '5']"),
 M("[file:name > 5]"),
 M("[file:x_seen > t'2020-06-01T00:00:00Z']","b"),
 M("[file:x_seen <= t'2020-01-01T00:00:00.000Z']","a"),
 M("[file:x_seen = t'2021-06-01T12:00:00.500Z']","b"),
 M("[file:x_seen < '2020-06-01']","a"),
 M("[file:name < t'2020-06-01T00:00:00Z']"),
])
# 03 IN
obs = od("a",T0,[sco("network-traffic",dst_port=443,protocols=["tcp","tls"])]) + od("b",T0,[sco("network-traffic",dst_port=8080,protocols=["udp"])])
write("03-in.json","IN holds when the property equals one element of the set (like with like: integers with floats, nothing else); NOT IN when it equals none, also when the types differ; an empty set matches nothing.",obs,[
 M("[network-traffic:dst_port IN (443, 8443)]","a"),
 M("[network-traffic:dst_port NOT IN (443, 8443)]","b"),
 M("[network-traffic:dst_port IN ()]"),
 M("[network-traffic:dst_port IN ('443', '8080')]"),
 M("[network-traffic:dst_port NOT IN ('443')]","a","b"),
 M("[network-traffic:dst_port NOT IN ()]","a","b"),
 M("[network-traffic:protocols[*] IN ('udp', 'sctp')]","b"),
 M("[network-traffic:dst_port IN (8080.0)]","b"),
])
# 04 LIKE
obs = od("a",T0,[sco("url",value="https://evil.example/login.php")]) + od("b",T0,[sco("url",value="http://caf\u00e9.example/")]) + od("c",T0,[sco("url",value="100%_sure",x_num=5)])
write("04-like.json","LIKE matches the whole string: % stands for any run of characters (also none), _ for exactly one character (a whole UTF-8 character); on a value that is not text it is false, and NOT LIKE true.",obs,[
 M("[url:value LIKE 'https://%']","a"),
 M("[url:value LIKE '%.php']","a"),
 M("[url:value LIKE 'evil']"),
 M("[url:value LIKE '%evil%']","a"),
 M("[url:value LIKE 'http://caf_.example/']","b"),
 M("[url:value LIKE 'http://caf__.example/']"),
 M("[url:value LIKE '100%']","c"),
 M("[url:value LIKE '%']","a","b","c"),
 M("[url:value NOT LIKE 'http%']","c"),
 M("[url:x_num LIKE '5']"),
 M("[url:x_num NOT LIKE '5']","c"),
 M("[url:value LIKE 'HTTPS://%']"),
])
# 05 MATCHES
obs = od("a",T0,[sco("email-addr",value="ceo@victim.example")]) + od("b",T0,[sco("email-addr",value="recruiter@linked-in.example")]) + \
      od("bin",T0,[sco("artifact",payload_bin="TVqQAAMAAAAEAAAA",mime_type="application/x-dosexec")]) + \
      od("slow",T0,[sco("email-addr",value="a"*40+"!")])
write("05-matches.json","MATCHES is a PCRE regular expression searched anywhere in the value (anchor it with ^ and $); against a _bin property it runs over the decoded bytes; a regular expression that backtracks past the match limit fails the evaluation cleanly.",obs,[
 M("[email-addr:value MATCHES '@victim\\\\.example$']","a"),
 M("[email-addr:value MATCHES '^recruiter@']","b"),
 M("[email-addr:value MATCHES 'linked-?in']","b"),
 M("[email-addr:value MATCHES '^victim']"),
 M("[email-addr:value NOT MATCHES 'example']","slow"),
 M("[email-addr:value NOT MATCHES '^ceo']","b","slow"),
 M("[artifact:payload_bin MATCHES '^MZ']","bin"),
 M("[artifact:mime_type MATCHES 'dosexec']","bin"),
 {"pattern":"[email-addr:value MATCHES '^(a+)+$']","error":"MATCHES gave up"},
])
# 06 CIDR
obs = od("v4",T0,[sco("ipv4-addr",value="198.51.100.7")]) + od("net",T0,[sco("ipv4-addr",value="198.51.100.0/25")]) + \
      od("v6",T0,[sco("ipv6-addr",value="2001:db8::1")]) + od("bad",T0,[sco("ipv4-addr",value="not-an-ip")])
write("06-cidr.json","ISSUBSET holds when the address or range in the property lies within the constant's CIDR range, ISSUPERSET when it contains the constant's range; IPv4 and IPv6 never mix; a property that is not an address fails both (and so passes their NOT).",obs,[
 M("[ipv4-addr:value ISSUBSET '198.51.100.0/24']","v4","net"),
 M("[ipv4-addr:value ISSUBSET '198.51.100.0/25']","v4","net"),
 M("[ipv4-addr:value ISSUBSET '198.51.100.128/25']"),
 M("[ipv4-addr:value ISSUBSET '198.51.100.7']","v4"),
 M("[ipv4-addr:value ISSUPERSET '198.51.100.7']","v4","net"),
 M("[ipv4-addr:value ISSUPERSET '198.51.100.0/24']"),
 M("[ipv4-addr:value NOT ISSUBSET '10.0.0.0/8']","v4","net","bad"),
 M("[ipv4-addr:value ISSUPERSET '198.51.100.0/26']","net"),
 M("[ipv4-addr:value ISSUBSET '198.51.0.0/16' AND ipv4-addr:value ISSUPERSET '198.51.100.64/26']","net"),
 M("[ipv6-addr:value ISSUBSET '2001:db8::/32']","v6"),
 M("[ipv6-addr:value ISSUBSET '2001:db9::/32']"),
 M("[ipv6-addr:value ISSUBSET '198.51.100.0/24']"),
 M("[ipv6-addr:value NOT ISSUBSET '198.51.100.0/24']","v6"),
 M("[ipv4-addr:value ISSUBSET '0.0.0.0/0']","v4","net"),
])
# 07 EXISTS
obs = od("a",T0,[sco("file",name="x",hashes={"MD5":"d41d8cd98f00b204e9800998ecf8427e"})]) + od("b",T0,[sco("file",name="y")])
write("07-exists.json","EXISTS holds when the object has the property (any value, at any depth of the path); it takes no NOT.",obs,[
 M("[EXISTS file:hashes]","a"),
 M("[EXISTS file:hashes.MD5]","a"),
 M("[EXISTS file:hashes.'SHA-256']"),
 M("[EXISTS file:name]","a","b"),
 M("[EXISTS file:name AND file:name = 'y']","b"),
 E("[file:name NOT EXISTS]",16),
])
# 08 binary
obs = od("a",T0,[sco("artifact",payload_bin="aGVsbG8=",x_key_hex="deadBEEF",x_text="aGVsbG8=")])
write("08-binary.json","b'' (base64) and h'' (hex) constants compare as bytes with binary properties (names ending _bin hold base64, _hex hold hex), whichever way each is written; text and binary compare when every character of the text is below U+0100, one byte each.",obs,[
 M("[artifact:payload_bin = b'aGVsbG8=']","a"),
 M("[artifact:payload_bin = h'68656c6c6f']","a"),
 M("[artifact:payload_bin = h'68656c6c6e']"),
 M("[artifact:payload_bin > h'68656c6c']","a"),
 M("[artifact:x_key_hex = h'deadbeef']","a"),
 M("[artifact:x_key_hex = b'3q2+7w==']","a"),
 M("[artifact:x_text = b'aGVsbG8=']"),
 M("[artifact:x_text = b'YUdWc2JHOD0=']","a"),
 M("[artifact:payload_bin = 'aGVsbG8=']"),
 M("[artifact:payload_bin = 'hello']","a"),
 M("[artifact:payload_bin < 'hellp']","a"),
 M("[artifact:payload_bin = 'h\u00e9llo']"),
 M("[artifact:payload_bin MATCHES '^hel+o$']","a"),
 M("[artifact:payload_bin LIKE 'hel%']","a"),
])
# 09 paths
f = sco("file",name="a.doc",hashes={"SHA-256":"aa"*32,"MD5":"0"*32},
        extensions={"ntfs-ext":{"alternate_data_streams":[{"name":"zone.id","size":26},{"name":"second","size":7}]}},
        x_list=[1,2,3], **{"x odd key":"yes"})
obs = od("a",T0,[f])
write("09-paths.json","An object path names the object type, then properties: quoted where they contain other characters, [n] for one list element (negative counts from the end), [*] for any element.",obs,[
 M("[file:hashes.'SHA-256' = '"+"aa"*32+"']","a"),
 M("[file:hashes.MD5 = '"+"0"*32+"']","a"),
 M("[file:extensions.'ntfs-ext'.alternate_data_streams[0].name = 'zone.id']","a"),
 M("[file:extensions.'ntfs-ext'.alternate_data_streams[1].name = 'zone.id']"),
 M("[file:extensions.'ntfs-ext'.alternate_data_streams[*].name = 'second']","a"),
 M("[file:extensions.'ntfs-ext'.alternate_data_streams[*].size > 20]","a"),
 M("[file:extensions.'ntfs-ext'.alternate_data_streams[2].name = 'second']"),
 M("[file:x_list[-1] = 3]","a"),
 M("[file:x_list[-4] = 1]"),
 M("[file:x_list[*] = 2]","a"),
 M("[file:'x odd key' = 'yes']","a"),
 M("[file:name[0] = 'a.doc']"),
])
# 10 references (2.1)
ip = sco("ipv4-addr",value="203.0.113.9"); ip2=sco("ipv4-addr",value="192.0.2.1")
nt = sco("network-traffic",src_ref=ip2["id"],dst_ref=ip["id"],dst_port=22)
ea = sco("email-addr",value="hr@fake-recruiter.example"); eb=sco("email-addr",value="target@victim.example")
em = sco("email-message",is_multipart=False,from_ref=ea["id"],to_refs=[eb["id"]],subject="Exciting role")
obs = od("nt",T0,[nt,ip,ip2]) + od("em",T0,[em,ea,eb]) + od("dangling",T0,[sco("network-traffic",dst_ref="ipv4-addr--00000000-0000-4000-8000-999999999999",dst_port=1)])
write("10-references.json","A property ending in _ref stands for the object it names, a _refs list for the objects: the path goes on inside them; a reference to an object that is not there is left out (matches nothing); a path that stops at a reference reaches an object, which no constant equals.",obs,[
 M("[network-traffic:dst_ref.value = '203.0.113.9']","nt"),
 M("[network-traffic:src_ref.value = '203.0.113.9']"),
 M("[network-traffic:dst_ref.value ISSUBSET '203.0.113.0/24' AND network-traffic:dst_port = 22]","nt"),
 M("[email-message:from_ref.value LIKE '%recruiter%']","em"),
 M("[email-message:to_refs[*].value = 'target@victim.example']","em"),
 M("[email-message:to_refs[0].value = 'target@victim.example']","em"),
 M("[email-message:to_refs[1].value = 'target@victim.example']"),
 M("[network-traffic:dst_ref = '"+ip["id"]+"']"),
 M("[EXISTS network-traffic:dst_ref]","nt"),
 M("[network-traffic:dst_ref.value = 'x']"),
 M("[EXISTS network-traffic:dst_ref.value]","nt"),
 M("[ipv4-addr:value = '192.0.2.1']","nt"),
])
# 11 comparison AND/OR
obs = od("two",T0,[sco("file",name="a.exe",size=1),sco("file",name="b.exe",size=2)]) + od("one",T0,[sco("file",name="a.exe",size=2)]) + od("ip",T0,[sco("ipv4-addr",value="10.0.0.1")])
write("11-comparison-and-or.json","Inside one observation expression AND binds tighter than OR; comparisons joined by AND must hold for the same object (so they must name the same type); OR may name different types.",obs,[
 M("[file:name = 'a.exe' AND file:size = 2]","one"),
 M("[file:name = 'a.exe' AND file:size = 1]","two"),
 M("[file:name = 'b.exe' AND file:size = 1]"),
 M("[file:name = 'a.exe' OR ipv4-addr:value = '10.0.0.1']","two","one","ip"),
 M("[file:size = 9 OR file:name = 'b.exe' AND file:size = 2]","two"),
 M("[(file:size = 9 OR file:name = 'b.exe') AND file:size = 1]"),
 M("[(file:size = 1 OR file:name = 'b.exe') AND file:size = 2]","two"),
 E("[file:name = 'a.exe' AND ipv4-addr:value = '10.0.0.1']",26),
])
# 12 observation AND/OR
obs = od("a",T0,[sco("domain-name",value="evil.example")]) + od("b","2020-03-01T10:05:00Z",[sco("ipv4-addr",value="203.0.113.9")]) + \
      od("both","2020-03-01T11:00:00Z",[sco("domain-name",value="both.example"),sco("ipv4-addr",value="198.51.100.1")])
write("12-observation-and-or.json","Observation expressions joined by AND must each be satisfied by a different observed-data; OR by either; every observed-data that takes part in a match is reported.",obs,[
 M("[domain-name:value = 'evil.example'] AND [ipv4-addr:value = '203.0.113.9']","a","b"),
 M("[domain-name:value = 'evil.example'] OR [ipv4-addr:value = '203.0.113.9']","a","b"),
 M("[domain-name:value = 'both.example'] AND [ipv4-addr:value = '198.51.100.1']"),
 M("[domain-name:value = 'both.example'] OR [ipv4-addr:value = '198.51.100.1']","both"),
 M("[domain-name:value = 'evil.example'] AND [domain-name:value = 'evil.example']"),
 M("[domain-name:value LIKE '%.example'] AND [domain-name:value LIKE '%.example']","a","both"),
 M("[domain-name:value = 'evil.example'] AND [ipv4-addr:value = '0.0.0.0']"),
 M("[domain-name:value = 'nope'] OR [ipv4-addr:value = '203.0.113.9'] AND [domain-name:value = 'evil.example']","a","b"),
])
# 13 FOLLOWEDBY
obs = od("t1","2020-03-01T10:00:00Z",[sco("email-addr",value="hr@fake-recruiter.example")]) + \
      od("t2","2020-03-01T10:30:00Z",[sco("url",value="https://fake-recruiter.example/cv")],last="2020-03-01T10:40:00Z") + \
      od("t3","2020-03-01T10:40:00Z",[sco("domain-name",value="exfil.example")])
write("13-followedby.json","A FOLLOWEDBY B holds when A and B are satisfied by different observations and times can be chosen within each observation's [first_observed, last_observed] that put every A no later than every B (the latest first_observed of A is not after the earliest last_observed of B); FOLLOWEDBY binds loosest and chains in time order.",obs,[
 M("[email-addr:value = 'hr@fake-recruiter.example'] FOLLOWEDBY [url:value LIKE '%/cv']","t1","t2"),
 M("[url:value LIKE '%/cv'] FOLLOWEDBY [email-addr:value = 'hr@fake-recruiter.example']"),
 M("[url:value LIKE '%/cv'] FOLLOWEDBY [domain-name:value = 'exfil.example']","t2","t3"),
 M("[domain-name:value = 'exfil.example'] FOLLOWEDBY [url:value LIKE '%/cv']","t2","t3"),
 M("[domain-name:value = 'exfil.example'] FOLLOWEDBY [email-addr:value LIKE '%']"),
 M("[email-addr:value LIKE '%'] FOLLOWEDBY [url:value LIKE '%'] FOLLOWEDBY [domain-name:value LIKE '%']","t1","t2","t3"),
 M("[domain-name:value LIKE '%'] FOLLOWEDBY [url:value LIKE '%'] FOLLOWEDBY [email-addr:value LIKE '%']"),
 M("[email-addr:value LIKE '%'] FOLLOWEDBY [email-addr:value LIKE '%']"),
 M("[domain-name:value = 'x'] OR [email-addr:value LIKE '%'] FOLLOWEDBY [domain-name:value LIKE '%']","t1","t3"),
])
# 14 WITHIN
obs = od("a","2020-03-01T10:00:00Z",[sco("ipv4-addr",value="203.0.113.1")]) + od("b","2020-03-01T10:00:05Z",[sco("ipv4-addr",value="203.0.113.2")]) + \
      od("c","2020-03-01T10:00:10Z",[sco("ipv4-addr",value="203.0.113.3")],last="2020-03-01T10:00:12.5Z")
write("14-within.json","WITHIN n SECONDS keeps the matches for which a window of n seconds meets the [first_observed, last_observed] interval of every observation (touching counts): the latest first_observed is at most n seconds after the earliest last_observed; n may be a decimal.",obs,[
 M("([ipv4-addr:value = '203.0.113.1'] AND [ipv4-addr:value = '203.0.113.2']) WITHIN 5 SECONDS","a","b"),
 M("([ipv4-addr:value = '203.0.113.1'] AND [ipv4-addr:value = '203.0.113.2']) WITHIN 4.999 SECONDS"),
 M("([ipv4-addr:value = '203.0.113.2'] AND [ipv4-addr:value = '203.0.113.3']) WITHIN 7.5 SECONDS","b","c"),
 M("([ipv4-addr:value = '203.0.113.2'] AND [ipv4-addr:value = '203.0.113.3']) WITHIN 5 SECONDS","b","c"),
 M("([ipv4-addr:value = '203.0.113.2'] AND [ipv4-addr:value = '203.0.113.3']) WITHIN 4.9 SECONDS"),
 M("[ipv4-addr:value = '203.0.113.3'] WITHIN 0.001 SECONDS","c"),
 M("[ipv4-addr:value = '203.0.113.1'] AND [ipv4-addr:value = '203.0.113.3'] WITHIN 1 SECONDS","a","c"),
 M("([ipv4-addr:value = '203.0.113.1'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.3']) WITHIN 10 SECONDS","a","c"),
 M("([ipv4-addr:value = '203.0.113.1'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.3']) WITHIN 9.5 SECONDS"),
 E("[ipv4-addr:value = '1.2.3.4'] WITHIN 0 SECONDS",38),
])
# 15 REPEATS
obs = od("r1","2020-03-01T10:00:00Z",[sco("domain-name",value="beacon.example")]) + od("r2","2020-03-01T10:01:00Z",[sco("domain-name",value="beacon.example")]) + \
      od("r3","2020-03-01T10:10:00Z",[sco("domain-name",value="beacon.example")]) + od("bulk","2020-03-02T00:00:00Z",[sco("domain-name",value="bulk.example")],last="2020-03-02T01:00:00Z",number=50)
write("15-repeats.json","REPEATS n TIMES needs n observations that each satisfy the expression; an observed-data with number_observed k stands for k observations (so it can also satisfy both sides of AND or FOLLOWEDBY on its own when k >= 2); combined with WITHIN the n observations must fit the window.",obs,[
 M("[domain-name:value = 'beacon.example'] REPEATS 2 TIMES","r1","r2","r3"),
 M("[domain-name:value = 'beacon.example'] REPEATS 3 TIMES","r1","r2","r3"),
 M("[domain-name:value = 'beacon.example'] REPEATS 4 TIMES"),
 M("[domain-name:value = 'beacon.example'] REPEATS 2 TIMES WITHIN 60 SECONDS","r1","r2"),
 M("[domain-name:value = 'beacon.example'] REPEATS 3 TIMES WITHIN 60 SECONDS"),
 M("[domain-name:value = 'bulk.example'] REPEATS 50 TIMES","bulk"),
 M("[domain-name:value = 'bulk.example'] REPEATS 51 TIMES"),
 M("[domain-name:value = 'bulk.example'] REPEATS 1000000 TIMES"),
 M("([domain-name:value = 'beacon.example'] REPEATS 2 TIMES) REPEATS 1 TIMES","r1","r2","r3"),
 M("[domain-name:value = 'bulk.example'] AND [domain-name:value = 'bulk.example']","bulk"),
 M("[domain-name:value = 'bulk.example'] FOLLOWEDBY [domain-name:value LIKE 'bulk%']","bulk"),
 M("[domain-name:value = 'bulk.example'] REPEATS 25 TIMES AND [domain-name:value = 'bulk.example'] REPEATS 25 TIMES","bulk"),
 M("[domain-name:value = 'bulk.example'] REPEATS 25 TIMES AND [domain-name:value = 'bulk.example'] REPEATS 26 TIMES"),
 M("[domain-name:value = 'beacon.example'] AND [domain-name:value = 'beacon.example'] AND [domain-name:value = 'beacon.example'] AND [domain-name:value = 'beacon.example']"),
 E("[domain-name:value = 'x'] REPEATS 0 TIMES",35),
])
# 16 START/STOP
obs = od("s1","2020-03-01T10:00:00Z",[sco("user-account",user_id="recruiter42",account_type="linkedin")]) + \
      od("s2","2020-03-01T12:00:00Z",[sco("user-account",user_id="recruiter42",account_type="linkedin")],last="2020-03-01T13:00:00Z")
write("16-start-stop.json","START s STOP e keeps matches whose every observation interval [first_observed, last_observed] meets [s, e): START is inclusive, STOP exclusive; STOP must be later than START.",obs,[
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T10:00:00Z' STOP t'2020-03-01T11:00:00Z'","s1"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T10:00:00.001Z' STOP t'2020-03-01T11:00:00Z'"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T09:00:00Z' STOP t'2020-03-01T10:00:00Z'"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T11:00:00Z' STOP t'2020-03-01T12:00:00Z'"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T11:00:00Z' STOP t'2020-03-01T13:00:00Z'","s2"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T12:30:00Z' STOP t'2020-03-01T12:45:00Z'","s2"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T13:00:00Z' STOP t'2020-03-01T14:00:00Z'","s2"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T13:00:00.001Z' STOP t'2020-03-01T14:00:00Z'"),
 M("[user-account:user_id = 'recruiter42'] START t'2020-03-01T11:00:00Z' STOP t'2020-03-01T13:00:00.001Z'","s2"),
 M("[user-account:account_type = 'linkedin'] REPEATS 2 TIMES START t'2020-03-01T00:00:00Z' STOP t'2020-03-02T00:00:00Z'","s1","s2"),
 E("[user-account:user_id = 'x'] START t'2020-03-01T11:00:00Z' STOP t'2020-03-01T10:00:00Z'",65),
])
# 17 qualifier combinations / nesting
obs = od("q1","2020-03-01T10:00:00Z",[sco("process",name="powershell.exe")]) + od("q2","2020-03-01T10:00:20Z",[sco("process",name="powershell.exe")]) + \
      od("q3","2020-03-01T10:00:30Z",[sco("domain-name",value="c2.example")])
write("17-qualifier-combinations.json","Qualifiers bind tighter than any operator and apply to the observation expression before them; each kind appears once per expression unless parentheses start a new one; they combine with AND, OR and FOLLOWEDBY.",obs,[
 M("([process:name = 'powershell.exe'] REPEATS 2 TIMES FOLLOWEDBY [domain-name:value = 'c2.example']) WITHIN 30 SECONDS","q1","q2","q3"),
 M("([process:name = 'powershell.exe'] REPEATS 2 TIMES FOLLOWEDBY [domain-name:value = 'c2.example']) WITHIN 29 SECONDS"),
 M("[process:name = 'powershell.exe'] REPEATS 2 TIMES WITHIN 20 SECONDS AND [domain-name:value = 'c2.example']","q1","q2","q3"),
 M("([process:name = 'powershell.exe'] WITHIN 1 SECONDS) WITHIN 1 SECONDS","q1","q2"),
 M("[domain-name:value = 'c2.example'] FOLLOWEDBY [process:name = 'powershell.exe'] REPEATS 2 TIMES"),
 E("[process:name = 'x'] REPEATS 2 TIMES REPEATS 3 TIMES",38),
])
# 18 STIX 2.0 (embedded objects)
o20=[{"type":"observed-data","id":"observed-data--v20a","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z",
      "first_observed":"2017-01-01T00:00:00Z","last_observed":"2017-01-01T00:00:00Z","number_observed":1,
      "objects":{"0":{"type":"ipv4-addr","value":"198.51.100.3"},"1":{"type":"network-traffic","dst_ref":"0","dst_port":80,"protocols":["tcp"]}}},
     {"type":"observed-data","id":"observed-data--v20b","created":"2017-01-01T00:00:00.000Z","modified":"2017-01-01T00:00:00.000Z",
      "first_observed":"2017-01-02T00:00:00Z","last_observed":"2017-01-02T00:00:00Z","number_observed":1,
      "objects":{"0":{"type":"file","name":"dropper.exe"}}}]
write("18-stix20.json","STIX 2.0 observed-data embeds its objects in a dictionary and references are keys into it; START and STOP take plain timestamp strings in 2.0 patterns.",o20,[
 M("[network-traffic:dst_ref.value = '198.51.100.3']","v20a"),
 M("[ipv4-addr:value ISSUBSET '198.51.100.0/24']","v20a"),
 M("[file:name = 'dropper.exe'] START '2017-01-02T00:00:00Z' STOP '2017-01-03T00:00:00Z'","v20b"),
 M("[network-traffic:dst_port = 80] FOLLOWEDBY [file:name = 'dropper.exe']","v20a","v20b"),
 E("[file:name = 'x'] START t'2017-01-02T00:00:00Z' STOP t'2017-01-03T00:00:00Z'",25),
], spec="2.0")
# 19 syntax
write("19-syntax.json","Keywords are upper case; whitespace and comments are free; a pattern is one or more bracketed observation expressions; strings use single quotes with only \\' and \\\\ escapes; numbers have no leading zeros or exponents.",
 od("z",T0,[sco("x-custom",x_text="it's",x_n=7)]),[
 M("[x-custom:x_text = 'it\\'s']","z"),
 M("  [ x-custom:x_n  =  7 ]  /* c */ // d","z"),
 M("([x-custom:x_n = 7])","z"),
 E("[x-custom:x_n = 7] and [x-custom:x_n = 7]",20),
 E("x-custom:x_n = 7",1),
 E("[x-custom:x_n = 07]",17),
 E("[x-custom:x_n = 7e0]",17),
 E("[x-custom:x_text = \"it\"]",20),
 E("[x-custom:x_text = 'a\\tb']",22),
 E("[x-custom:x_n = 7",18),
 E("[]",2),
])
# 20 hash values
obs = od("h",T0,[sco("file",name="x.exe",hashes={"MD5":"d41d8cd98f00b204e9800998ecf8427e","SHA-1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"})])
write("20-hash-values.json","A hash constant compared with = or != or IN on hashes.<algorithm> must be a hash of that algorithm (MD5 32 hex digits, SHA-1 40, SHA-256 64, ...); hex comparison is as written (case sensitive, no coercion).",obs,[
 M("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']","h"),
 M("[file:hashes.MD5 = 'D41D8CD98F00B204E9800998ECF8427E']"),
 M("[file:hashes.'SHA-1' IN ('da39a3ee5e6b4b0d3255bfef95601890afd80709')]","h"),
 E("[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427']",20),
 E("[file:hashes.'SHA-256' = 'f00']",26),
 E("[file:hashes.'SHA-1' = 'zz39a3ee5e6b4b0d3255bfef95601890afd80709']",24),
])
# 21 observation operator precedence
obs = od("ana","2019-05-01T08:00:00Z",[sco("user-account",user_id="ana",x_years=12)]) + \
      od("ben","2021-02-01T08:00:00Z",[sco("user-account",user_id="ben",x_years=18)]) + \
      od("cyd","2020-07-01T08:00:00Z",[sco("user-account",user_id="cyd",x_years=25)])
write("21-observation-precedence.json","Between observation expressions AND binds tighter than OR, and OR tighter than FOLLOWEDBY; one observed-data never satisfies two operands of AND or FOLLOWEDBY.",obs,[
 M("[user-account:user_id = 'ana'] AND [user-account:x_years > 20]","ana","cyd"),
 M("[user-account:user_id = 'ana'] AND [user-account:x_years = 12]"),
 M("[user-account:user_id = 'ana'] FOLLOWEDBY [user-account:x_years = 12]"),
 M("[user-account:user_id = 'ana'] FOLLOWEDBY [user-account:user_id > 'b']","ana","ben","cyd"),
 M("[user-account:user_id = 'ben'] FOLLOWEDBY [user-account:x_years < 15]"),
 M("[user-account:x_years > 20] OR [user-account:user_id > 'zz'] AND [user-account:x_years < 0]","cyd"),
 M("([user-account:x_years > 20] OR [user-account:user_id > 'zz']) AND [user-account:x_years < 0]"),
 M("[user-account:x_years > 20] OR [user-account:user_id > 'zz'] FOLLOWEDBY [user-account:x_years < 0]"),
 M("[user-account:x_years > 20] OR ([user-account:user_id > 'zz'] FOLLOWEDBY [user-account:x_years < 0])","cyd"),
 M("([user-account:user_id = 'cyd'] FOLLOWEDBY [user-account:user_id < 'c']) AND [user-account:x_years < 15]","ana","ben","cyd"),
 M("[user-account:user_id = 'cyd'] FOLLOWEDBY [user-account:user_id < 'c'] AND [user-account:x_years < 15]"),
])
# 22 binary and text, more
bt = sco("x-bin", word="kayak", word_u="k\u0103yak", word_hex="6b6179616b", word_bin="a2F5YWs=", raw_hex="00ff10")
o21 = od("b",T0,[bt])
o21[0]["objects"] = {}  # a deprecated empty "objects" beside object_refs: still STIX 2.1
write("22-binary-text.json","Text compares with binary (=, <, >, LIKE, MATCHES) when each of its characters is below U+0100, one byte per character; otherwise the base comparison is false, and NOT makes it true. Observed-data with object_refs is STIX 2.1 even beside an empty objects dictionary.",o21,[
 M("[x-bin:word = h'6b6179616b']","b"),
 M("[x-bin:word = b'a2F5YWs=']","b"),
 M("[x-bin:word_bin = h'6b6179616b']","b"),
 M("[x-bin:word_hex = b'a2F5YWs=']","b"),
 M("[x-bin:word_hex = 'kayak']","b"),
 M("[x-bin:word_bin > 'kangaroo']","b"),
 M("[x-bin:word_hex > h'6b616e676172']","b"),
 M("[x-bin:word_bin LIKE 'k_y%']","b"),
 M("[x-bin:word_bin MATCHES '^\\\\x6bay']","b"),
 M("[x-bin:raw_hex MATCHES '\\\\xff\\\\x10$']","b"),
 M("[x-bin:raw_hex = h'00FF10']","b"),
 M("[x-bin:word_bin = 'k\u0103yak']"),
 M("[x-bin:word_bin < 'k\u0103yak']"),
 M("[x-bin:word_bin > 'k\u0103yak']"),
 M("[x-bin:word_bin NOT = 'k\u0103yak']","b"),
 M("[x-bin:word_bin LIKE 'k\u0103%']"),
 M("[x-bin:word_bin NOT LIKE 'k\u0103%']","b"),
 M("[x-bin:word_hex MATCHES 'k\u0103yak']"),
 M("[x-bin:word_hex NOT MATCHES 'k\u0103yak']","b"),
 M("[x-bin:word_u = h'6b6179616b']"),
 M("[x-bin:word_u < b'a2F5YWs=']"),
 M("[x-bin:word_u > b'a2F5YWs=']"),
 M("[x-bin:word_u IN ('k\u0103yak')]","b"),
 M("[x-bin:word_hex IN ('kayak')]"),
])
# 23 timestamps
obs = od("ev",T0,[sco("x-event",good_ts="2010-05-21T13:21:43Z",good_frac="2010-05-21T13:21:43.1234Z",odd_ts="2010-05-21 13:21:43")])
write("23-timestamps.json","t'' constants are STIX timestamps (upper-case T and Z, UTC, real dates, any fraction) and compare by instant with text properties holding STIX timestamps, whatever their precision; text that is not a STIX timestamp does not compare.",obs,[
 M("[x-event:good_ts = t'2010-05-21T13:21:43Z']","ev"),
 M("[x-event:good_ts = t'2010-05-21T13:21:43.000Z']","ev"),
 M("[x-event:good_ts != t'1974-11-05T05:31:11Z']","ev"),
 M("[x-event:good_ts > t'1974-11-05T05:31:11Z']","ev"),
 M("[x-event:good_ts >= t'3012-08-17T17:43:55Z']"),
 M("[x-event:good_frac = t'2010-05-21T13:21:43.1234Z']","ev"),
 M("[x-event:good_frac > t'2010-05-21T13:21:43.1233999Z']","ev"),
 M("[x-event:good_frac IN (t'2010-05-21T13:21:43.12340Z', t'2011-01-01T00:00:00Z')]","ev"),
 M("[x-event:odd_ts = t'2010-05-21T13:21:43Z']"),
 M("[x-event:odd_ts != t'2010-05-21T13:21:43Z']","ev"),
 M("[x-event:good_ts = '2010-05-21T13:21:43.000Z']"),
 E("[x-event:good_ts = t'2010-05-21T13:21:43']",41),
 E("[x-event:good_ts = t'2010-05-21T13:21:43z']",41),
 E("[x-event:good_ts = t'2010-05-21t13:21:43Z']",32),
 E("[x-event:good_ts = t'2010/05/21T13:21:43Z']",26),
 E("[x-event:good_ts = t'2010-05-21T13:21:99Z']",39),
 E("[x-event:good_ts = t'2010-02-30T13:21:43Z']",30),
])
