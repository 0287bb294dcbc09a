"""The pytest plugin as an outside project uses it: a small project with a "sync my users to
Help Scout" function and its tests, run by pytest in a process of its own (pytester), with the
plugin found through its `pytest11` entry point."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

SYNC = '''
"""Sync my users to Help Scout: create the missing customers, rename the changed ones."""

import time

import httpx

RETRIED = (429, 500, 503)


class HelpScout:
    def __init__(self, base_url, api_key, retries=3):
        self.http = httpx.Client(base_url=base_url, auth=(api_key, "X"), timeout=10)
        self.retries = retries

    def close(self):
        self.http.close()

    def request(self, method, path, **options):
        for attempt in range(self.retries + 1):
            response = self.http.request(method, path, **options)
            if response.status_code in RETRIED and attempt < self.retries:
                time.sleep(float(response.headers.get("Retry-After", "0")))
                continue
            response.raise_for_status()
            return response

    def find(self, email):
        found = self.request("GET", "/v1/customers.json", params={"email": email}).json()
        return found["items"][0] if found["items"] else None


def sync_users(helpscout, users):
    """Every user as a customer; returns the customer id of each email address."""
    ids = {}
    for user in users:
        names = {"firstName": user["first"], "lastName": user["last"]}
        customer = helpscout.find(user["email"])
        if customer is None:
            body = {**names, "emails": [{"value": user["email"]}]}
            created = helpscout.request("POST", "/v1/customers.json", json=body)
            ids[user["email"]] = int(created.headers["Location"].rsplit("/", 1)[1][:-5])
            continue
        if (customer["firstName"], customer["lastName"]) != (names["firstName"], names["lastName"]):
            helpscout.request("PUT", f"/v1/customers/{customer['id']}.json", json=names)
        ids[user["email"]] = customer["id"]
    return ids
'''

CUSTOMERS = """
[
  {"id": 5, "firstName": "Ann", "lastName": "Lee", "createdAt": "2015-03-01T10:00:00Z",
   "modifiedAt": "2015-03-01T10:00:00Z", "gender": "female",
   "emails": [{"id": 6, "value": "ann@example.com", "location": "work"}]}
]
"""

TESTS = """
import httpx
import pytest

from openscout.testing import id_starts
from sync import HelpScout, sync_users

USERS = [
    {"email": "ann@example.com", "first": "Ann", "last": "Lee"},
    {"email": "bo@example.com", "first": "Bo", "last": "Ek"},
]


@pytest.fixture
def client(helpscout):
    client = HelpScout(helpscout.base_url, helpscout.api_key)
    yield client
    client.close()


def customers(helpscout):
    return httpx.get(helpscout.url("/v1/customers.json"), auth=helpscout.auth).json()


def test_creates_the_missing_users(helpscout, client):
    ids = sync_users(client, USERS)
    listed = customers(helpscout)
    assert listed["count"] == 2
    assert {item["id"] for item in listed["items"]} == set(ids.values())
    assert [(r.method, r.path, r.status) for r in helpscout.requests()][:4] == [
        ("GET", "/v1/customers.json", 200),
        ("POST", "/v1/customers.json", 201),
        ("GET", "/v1/customers.json", 200),
        ("POST", "/v1/customers.json", 201),
    ]
    assert helpscout.requests()[1].json == {
        "firstName": "Ann", "lastName": "Lee", "emails": [{"value": "ann@example.com"}]
    }


def test_each_test_has_an_account_of_its_own(helpscout, helpscout_server):
    assert customers(helpscout)["count"] == 0
    assert helpscout.requests()[-1].path == "/v1/customers.json"
    assert helpscout.base_url == helpscout_server.base_url
    assert helpscout.api_key != helpscout_server.api_key


@pytest.mark.helpscout_fixtures("fixtures/customers.json")
def test_renames_a_changed_user_seeded_from_a_fixture(helpscout, client):
    ids = sync_users(client, [{"email": "ann@example.com", "first": "Ann", "last": "Lind"}])
    item = httpx.get(
        helpscout.url(f"/v1/customers/{ids['ann@example.com']}.json"), auth=helpscout.auth
    ).json()["item"]
    assert (item["lastName"], item["createdAt"], item["gender"]) == (
        "Lind", "2015-03-01T10:00:00Z", "female"
    )
    assert [r.method for r in helpscout.requests()] == ["GET", "PUT", "GET"]


@pytest.mark.helpscout_fixtures([{"firstName": "Cy", "lastName": "Oh"}])
def test_fixtures_given_as_data(helpscout):
    assert [i["fullName"] for i in customers(helpscout)["items"]] == ["Cy Oh"]


def test_retries_rate_limits_and_outages(helpscout, client):
    helpscout.fail_next(2, 429, method="POST", retry_after=0)
    helpscout.fail_next(1, 503, method="GET", path="/v1/customers.json")
    sync_users(client, USERS[:1])
    assert [r.status for r in helpscout.requests()] == [503, 200, 429, 429, 201]
    assert helpscout.requests()[2].fault["status"] == 429
    assert customers(helpscout)["count"] == 1
    assert helpscout.faults() == []


def test_gives_up_after_its_retries(helpscout, client):
    helpscout.fail_next(4, 500)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        sync_users(client, USERS)
    assert raised.value.response.json() == {"code": 500, "error": "An unexpected error occurred"}
    assert customers(helpscout)["count"] == 0


def test_a_lost_answer_makes_the_retry_conflict(helpscout, client):
    helpscout.fail_next(1, 503, method="POST", processed=True)
    with pytest.raises(httpx.HTTPStatusError) as raised:
        sync_users(client, USERS[:1])
    assert raised.value.response.status_code == 409
    assert customers(helpscout)["count"] == 1


def test_slow_answers_still_arrive(helpscout, client):
    helpscout.delay_next(2, delay_ms=20)
    sync_users(client, USERS[:1])
    assert [r.fault["delayMs"] if r.fault else None for r in helpscout.requests()] == [20, 20]


@pytest.mark.helpscout_time("2024-05-01T09:30:00Z")
def test_timestamps_follow_the_clock(helpscout, client):
    ids = sync_users(client, USERS[:1])
    helpscout.advance(3600)
    sync_users(client, [{**USERS[0], "last": "Lind"}])
    item = httpx.get(
        helpscout.url(f"/v1/customers/{ids['ann@example.com']}.json"), auth=helpscout.auth
    ).json()["item"]
    assert (item["createdAt"], item["modifiedAt"]) == (
        "2024-05-01T09:30:00Z", "2024-05-01T10:30:00Z"
    )


def test_the_clock_of_another_test_is_not_mine(helpscout):
    assert helpscout.now().year != 2024 or helpscout.now().month != 5


def test_snapshot_restore_and_reset(helpscout, client):
    sync_users(client, USERS)
    snapshot = helpscout.snapshot()
    before = customers(helpscout)
    sync_users(client, [{"email": "cy@example.com", "first": "Cy", "last": "Oh"}])
    helpscout.restore(snapshot)
    assert customers(helpscout) == before
    helpscout.clear_requests()
    assert helpscout.requests() == []
    assert helpscout.reset() == 2
    assert customers(helpscout)["count"] == 0


def test_another_account_for_a_second_tenant(helpscout, client):
    sync_users(client, USERS)
    tenant = helpscout.new_account()
    assert customers(tenant)["count"] == 0
    assert tenant.requests()[-1].status == 200


@pytest.mark.helpscout_own_server(id_seed=3, time="2020-02-02T00:00:00Z")
def test_ids_are_the_same_on_every_run(helpscout, client):
    ids = sync_users(client, USERS)
    assert ids == {
        "ann@example.com": id_starts(3)["customers"],
        "bo@example.com": id_starts(3)["customers"] + 1,
    }
    assert customers(helpscout)["items"][0]["createdAt"] == "2020-02-02T00:00:00Z"

"""

PASSING = 13

FAILING = """
import httpx


def test_shows_the_requests_when_it_fails(helpscout):
    httpx.post(helpscout.url("/v1/customers.json"), auth=helpscout.auth, json={"firstName": "A"})
    assert False, "deliberately"
"""

ISOLATED = """
import sys
import threading


def test_loading_the_plugin_starts_nothing(pytestconfig):
    assert pytestconfig.pluginmanager.has_plugin("openscout")
    assert "openscout-server" not in [thread.name for thread in threading.enumerate()]
    assert "uvicorn" not in sys.modules and "sqlalchemy" not in sys.modules
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    # The plugins of openscout's own tests that such a project would not have (schemathesis
    # imports hypothesis: seconds of start-up for every run) are left out.
    pytester.makeini(
        """
        [pytest]
        addopts = -p no:cacheprovider -p no:schemathesis -p no:hypothesispytest -p no:anyio
            --strict-markers --strict-config
        filterwarnings = error
        """
    )
    pytester.makepyfile(sync=textwrap.dedent(SYNC))
    pytester.mkdir("fixtures")
    (pytester.path / "fixtures" / "customers.json").write_text(CUSTOMERS)
    return pytester


def test_an_outside_project_tests_its_sync_against_the_plugin(project: pytest.Pytester) -> None:
    project.makepyfile(test_sync=TESTS)
    result = project.runpytest_subprocess("-v")
    result.assert_outcomes(passed=PASSING)
    result.stdout.fnmatch_lines(["*test_ids_are_the_same_on_every_run PASSED*"])


def test_the_tests_also_pass_in_parallel_with_xdist(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(test_sync=TESTS)
    result = project.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=PASSING)


def test_a_failed_test_shows_the_requests_its_account_received(project: pytest.Pytester) -> None:
    project.makepyfile(test_failing=FAILING)
    result = project.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: deliberately*",
            "*- openscout requests -*",
            "   1 POST /v1/customers.json -> 400",
        ]
    )


def test_the_plugin_is_only_options_and_markers_until_a_test_asks(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_isolated=ISOLATED)
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=1)
    help_text = project.runpytest_subprocess("--help").stdout.str()
    for option in ("--helpscout-database-url=URL", "--helpscout-id-seed=N"):
        assert option in help_text
    markers = project.runpytest_subprocess("--markers").stdout.str()
    for marker in ("helpscout_fixtures(*sources)", "helpscout_time(", "helpscout_own_server("):
        assert f"@pytest.mark.{marker}" in markers


def test_the_database_url_option_puts_the_server_on_that_database(
    project: pytest.Pytester, database_url: str
) -> None:
    project.makepyfile(
        test_database="""
        def test_customers_land_in_the_given_database(helpscout):
            assert helpscout.load([{"firstName": "Ann", "lastName": "Lee"}])
        """
    )
    result = project.runpytest_subprocess(f"--helpscout-database-url={database_url}")
    result.assert_outcomes(passed=1)
    from sqlalchemy import func, select

    from openscout.store.engine import SqlStore
    from openscout.store.tables import accounts, customers

    store = SqlStore(database_url)
    try:
        with store.reading() as transaction:
            query = (
                select(func.count())
                .select_from(customers.join(accounts))
                .where(accounts.c.name.like("test-%"), customers.c.first_name == "Ann")
            )
            assert transaction.connection.execute(query).scalar_one() >= 1
    finally:
        store.close()


def test_the_readme_example_passes_as_written(project: pytest.Pytester) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Use openscout in your tests", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n# (\w+\.py)\n(.*?)```", section, re.DOTALL)
    assert [name for name, _ in blocks] == [
        "sync.py",
        "test_sync.py",
        "sync_v2.py",
        "test_sync_v2.py",
    ]
    for name, code in blocks:
        (project.path / name).write_text(code)
    result = project.runpytest_subprocess()
    result.assert_outcomes(passed=5)


def test_an_unreachable_database_stops_the_session_with_one_line(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(
        test_unreachable="""
        import pytest

        @pytest.mark.parametrize("n", range(5))
        def test_needs_the_server(helpscout, n):
            assert helpscout.api_key
        """
    )
    url = "postgresql://nobody@127.0.0.1:1/none"
    result = project.runpytest_subprocess(f"--helpscout-database-url={url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "psycopg" not in output, output
    [line] = [line for line in output.splitlines() if "openscout:" in line]
    assert f"openscout: the database {url} cannot be reached: " in line
    result.assert_outcomes()  # none ran, none failed one by one
