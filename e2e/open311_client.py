"""Open311 through independent client libraries, as a new user of the API would use them.

Reads with `georeport` (PyPI, JSON and XML), posts and follows a token with `civicbot` (PyPI, JSON), and
posts in XML as the specification describes it (form fields to requests.xml) with `requests`/`xmltodict`,
which `georeport` itself uses. Needs a running demo server, an api_key for it, and the demo password
(to place an address-only report as the dispatcher, so that its token yields a number).

    GRIDWARD_URL=http://127.0.0.1:8080 OPEN311_KEY=… GRIDWARD_DEMO_PASSWORD=… python open311_client.py
"""

import os
import random
import sys

import requests
import xmltodict
from civicbot import Open311Client
from civicbot.registry import Endpoint
from georeport import GeoReport

BASE = os.environ.get("GRIDWARD_URL", "http://127.0.0.1:8080").rstrip("/")
KEY = os.environ["OPEN311_KEY"]
PASSWORD = os.environ["GRIDWARD_DEMO_PASSWORD"]
ROOT = BASE + "/open311/v2"
CITY = "320600000000"

passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"not ok - {name} {detail}")


def staff_session(user):
    r = requests.post(BASE + "/api/v1/session", json={"username": user, "password": PASSWORD}, timeout=10)
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["token"]}


# Where to report: the middle of one of 钟秀街道's grids, as the map draws it (GCJ-02). Open311 takes WGS-84,
# which lies a few hundred metres away; that is still inside 崇川区, which is all the posts below need.
officer = staff_session("officer.zhongxiu")
grids = requests.get(BASE + "/api/v1/grids?territory=320613007000", headers=officer, timeout=30).json()
ring = grids["features"][len(grids["features"]) // 2]["geometry"]["coordinates"][0][0][1:]
gx, gy = sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
# Each run reports at its own spot, so that a second run is not taken for duplicates of the first.
lon, lat = gx + random.uniform(-0.003, 0.003), gy + random.uniform(-0.003, 0.003)
run = random.randrange(10**6)
route = requests.get(f"{BASE}/api/v1/route?lon={lon}&lat={lat}", headers=officer, timeout=10).json()
check("the point, read as WGS-84, lies in 崇川区", route["divisions"][0]["code"].startswith("320613"), route)

# Reading with georeport, in JSON and in XML.
for fmt in ("json", "xml"):
    client = GeoReport(ROOT, jurisdiction=CITY, output_format=fmt)
    services = client.get_service_list()
    check(f"[{fmt}] georeport lists the services", len(services) >= 20, len(services))
    codes = [s["service_code"] for s in services]
    check(f"[{fmt}] service 0101 is listed", "0101" in codes)
    definition = client.get_service_definition("0101")
    attributes = definition["attributes"]
    attribute = attributes[0] if isinstance(attributes, list) else attributes["attribute"]
    check(f"[{fmt}] the definition names its attribute", attribute["code"] == "severity", attribute)

# Posting with civicbot (JSON), then reading back with georeport in both formats.
endpoint = Endpoint(id="nantong", name="Nantong", base_url=ROOT, write=True)
poster = Open311Client(endpoint, jurisdiction_id=CITY)
sent = poster.create_request(
    "0401", dry_run=False, confirm="SEND", api_key=KEY, lat=lat + 0.0011, lng=lon, description="人行道上摆摊经营",
    attributes={"severity": "serious"}, first_name="李", last_name="雷", phone="13900001111",
)
answer = sent.response
check("civicbot's POST gets a service_request_id", isinstance(answer, list) and "service_request_id" in answer[0], answer)
request_id = answer[0]["service_request_id"]
check("…and not a token with it", "token" not in answer[0], answer)
for fmt in ("json", "xml"):
    reader = GeoReport(ROOT, jurisdiction=CITY, output_format=fmt)
    one = reader.get_service_request(request_id)
    check(f"[{fmt}] georeport reads the request back", one["service_request_id"] == request_id and one["service_code"] == "0401", one)
    check(f"[{fmt}] its times carry a time zone", one["requested_datetime"].endswith("+08:00"), one["requested_datetime"])
    listed = reader.get_service_requests(service_code="0401", status="open")
    listed = listed if isinstance(listed, list) else [listed]
    check(f"[{fmt}] georeport finds it in the open list", any(r["service_request_id"] == request_id for r in listed))
check("civicbot reads the request back", poster.get_request(request_id)["service_request_id"] == request_id)

# Posting in XML, form fields as the specification gives them.
form = {"api_key": KEY, "jurisdiction_id": CITY, "service_code": "0201", "lat": lat + 0.0022, "long": lon,
        "description": "电线杆上贴满小广告", "attribute[severity]": "minor"}
xml_reply = requests.post(ROOT + "/requests.xml", data=form, timeout=10)
check("an XML POST is answered in XML", xml_reply.headers["content-type"].startswith("text/xml"), xml_reply.headers)
parsed = xmltodict.parse(xml_reply.content)["service_requests"]["request"]
check("the XML answer holds a service_request_id", "service_request_id" in parsed, parsed)
check("georeport reads the XML-posted request", GeoReport(ROOT, output_format="xml").get_service_request(parsed["service_request_id"])["service_code"] == "0201")

# A wrong key is refused with 403, in the error form of the specification.
refused = requests.post(ROOT + "/requests.json", data={**form, "api_key": "wrong"}, timeout=10)
check("a wrong api_key answers 403", refused.status_code == 403 and refused.json()[0]["code"] == "bad_api_key", refused.text)

# An address alone: civicbot gets a token; it yields the number once the dispatcher places the report.
by_address = poster.create_request("0202", dry_run=False, confirm="SEND", api_key=KEY, address_string=f"钟秀路 88 号 东侧围墙 ({run})",
                                   description="围墙上有涂鸦").response
token = by_address[0].get("token")
check("an address-only POST gets a token", bool(token) and "service_request_id" not in by_address[0], by_address)
pending = poster.get_token(token)
check("the token has no number before the report is placed", "service_request_id" not in pending[0], pending)
dispatcher = staff_session("dispatcher")
queue = requests.get(BASE + "/api/v1/reports?queue=intake&limit=500", headers=dispatcher, timeout=10).json()["items"]
waiting = [v["report"] for v in queue if v["report"]["address"] == f"钟秀路 88 号 东侧围墙 ({run})"]
check("the dispatcher sees the unplaced report", len(waiting) == 1)
placed = requests.post(f"{BASE}/api/v1/reports/{waiting[0]['id']}/place", headers=dispatcher,
                       json={"lon": gx, "lat": gy, "datum": "gcj02"}, timeout=10)
check("the dispatcher places it", placed.status_code == 200, placed.text)
resolved = poster.get_token(token)
check("the token now yields its service_request_id", resolved[0].get("service_request_id") == str(waiting[0]["id"]), resolved)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
