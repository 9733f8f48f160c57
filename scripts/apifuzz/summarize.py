"""Summarize a Schemathesis 3.21 report: failing test cases per operation and
category (a: valid request refused, b: undeclared status, c: response not
matching its schema, d: 5xx, e: content type, f: headers)."""
import re, sys, collections
cat = [("positive_data_acceptance", "a:refused-valid"), ("Undocumented HTTP status code", "b:undeclared-status"),
       ("Response violates schema", "c:schema-mismatch"), ("Server error", "d:5xx"),
       ("Undocumented Content-Type", "e:content-type"), ("Missing Content-Type", "e:content-type"),
       ("Malformed media type", "e:content-type"), ("JSON deserialization error", "c:schema-mismatch"),
       ("Missing header", "f:headers")]
per = collections.defaultdict(collections.Counter)
op = None
case = None
text = "".join(open(f, encoding="utf-8", errors="replace").read() for f in sys.argv[1:])
for block in re.split(r"\n(?=_{5,} )", text):
    m = re.match(r"_{5,} (\S+ \S+) _{5,}", block)
    if not m:
        continue
    op = m.group(1)
    for c in re.split(r"\n(?=\d+\. Test Case ID)", block)[1:]:
        seen = set()  # the categories of one failing test case
        for needle, name in cat:
            if needle in c:
                seen.add(name)
        if not seen:
            seen.add("other")
        for s in seen:
            per[op][s] += 1
tot = collections.Counter()
for op in sorted(per):
    print(f"{op:55s} " + ", ".join(f"{k}={v}" for k, v in sorted(per[op].items())))
    for k, v in per[op].items():
        tot[k] += 1
print("operations with findings per category:", dict(sorted(tot.items())), "operations:", len(per))
for m in re.finditer(r"=+ (.*) in [0-9.]+s =+", text):
    print("run:", m.group(1))
