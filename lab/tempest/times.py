"""stestr's test durations (times.dbm: test id -> seconds as text, in Python's dbm.dumb format,
which stestr uses), kept so that stestr can balance Tempest's workers.

stestr deals test classes out to workers by the sum of their tests' durations. Most of a Tempest
class's wall time is in its class fixtures (isolated credentials and networks, and Tempest
33.0.0's 10 s sleep before every subnet delete), which no test's duration counts: with the
figures stestr records, workers given the same test time ran 15 to 22 minutes. So after a run,
`balance` measures each class's wall time on its worker from the subunit stream, fixtures
included, and gives each of the class's tests an equal share of it: stestr's own scheduler then
balances by what a class really costs.

    python3 times.py balance STREAM REPO/times.dbm    # `stestr last --subunit` (v2) -> class shares
    python3 times.py import SEED.json REPO/times.dbm  # adds only ids the dbm lacks
    python3 times.py export REPO/times.dbm SEED.json  # sorted, seconds rounded to 0.1
"""
import collections
import dbm.dumb
import json
import re
import sys

SETUP = re.compile(r"^(?:setUpClass|tearDownClass) \((.+)\)$")


def class_of(test_id):
    """stestr's group (Tempest's group_regex `([^\\.]*\\.)*`) without its trailing dot."""
    m = SETUP.match(test_id)
    if m:
        return m.group(1)
    return test_id.split("[", 1)[0].rsplit(".", 1)[0]


def stestr_key(test_id):
    """The key stestr files a test's duration under: its id without the [attributes]."""
    start, end = test_id.find("["), test_id.find("]")
    return test_id[:start] + test_id[end + 1 :] if 0 < start < end else test_id


def read_stream(path):
    """(id, worker, start, stop) of every test in a subunit v2 stream that has both timestamps."""
    import subunit
    import testtools

    tests = []

    def on_test(t):
        start, stop = t["timestamps"]
        workers = sorted(tag for tag in t["tags"] if tag.startswith("worker-"))
        if start is None or stop is None or not workers:
            return
        tests.append((t["id"], workers[0], start.timestamp(), stop.timestamp()))

    with open(path, "rb") as f:
        result = testtools.StreamToDict(on_test)
        result.startTestRun()
        subunit.ByteStreamToStreamResult(f, non_subunit_name="stdout").run(result)
        result.stopTestRun()
    return tests


def class_walls(tests):
    """Each class's wall time on its worker, and each worker's (test time, wall time, tests).

    A worker runs its classes one after another. The gap between one class's last test and the
    next class's first test holds the first's tearDownClass and the second's setUpClass; each
    class gets half of it. The first class gets all the time from the run's start (the earliest
    test start of any worker) to its first test; the last class's tearDownClass is not timed.
    """
    if not tests:
        return {}, {}
    t0 = min(start for _, _, start, _ in tests)
    by_worker = collections.defaultdict(list)
    for test in tests:
        by_worker[test[1]].append(test)
    walls = collections.defaultdict(float)
    workers = {}
    for worker, runs in sorted(by_worker.items()):
        runs.sort(key=lambda t: t[2])
        segments = []  # [class, first start, last stop]
        for test_id, _, start, stop in runs:
            cls = class_of(test_id)
            if segments and segments[-1][0] == cls:
                segments[-1][2] = max(segments[-1][2], stop)
            else:
                segments.append([cls, start, stop])
        previous_end = t0
        for i, (cls, start, stop) in enumerate(segments):
            before = start - previous_end
            walls[cls] += (stop - start) + (before if i == 0 else before / 2)
            if i + 1 < len(segments):
                walls[cls] += (segments[i + 1][1] - stop) / 2
            previous_end = stop
        workers[worker] = (
            sum(stop - start for _, _, start, stop in runs),
            segments[-1][2] - t0,
            len(runs),
        )
    return dict(walls), workers


def balance(stream_path, dbm_path):
    tests = read_stream(stream_path)
    walls, workers = class_walls(tests)
    members = collections.defaultdict(set)
    for test_id, _, _, _ in tests:
        if not SETUP.match(test_id):
            members[class_of(test_id)].add(stestr_key(test_id))
    db = dbm.dumb.open(dbm_path, "c")
    try:
        for cls, ids in members.items():
            share = walls[cls] / len(ids)
            for test_id in ids:
                db[test_id] = str(round(share, 3))
    finally:
        db.close()
    for worker, (test_time, wall, count) in sorted(workers.items()):
        print(
            f"tempest {worker}: {count} tests, test time {test_time / 60:.1f} min, wall {wall / 60:.1f} min"
        )
    print(f"tempest times: {sum(len(i) for i in members.values())} tests of {len(members)} classes given their class's wall time")


def load_seed(path):
    with open(path, encoding="utf-8") as f:
        seed = json.load(f)
    if not isinstance(seed, dict):
        raise SystemExit(f"{path}: expected a JSON object of test id -> seconds")
    for test_id, seconds in seed.items():
        if not test_id.startswith("tempest.") or not isinstance(seconds, (int, float)) or seconds < 0:
            raise SystemExit(f"{path}: {test_id!r}: expected a tempest test id -> seconds >= 0, got {seconds!r}")
    return seed


def import_seed(seed_path, dbm_path):
    seed = load_seed(seed_path)
    db = dbm.dumb.open(dbm_path, "c")
    try:
        added = 0
        for test_id, seconds in seed.items():
            if test_id not in db:
                db[test_id] = str(float(seconds))
                added += 1
    finally:
        db.close()
    print(f"tempest times: {added} of {len(seed)} test durations from {seed_path}")


def export_seed(dbm_path, seed_path):
    db = dbm.dumb.open(dbm_path, "r")
    try:
        # Skipped classes' "setUpClass (...)" entries are no tests to balance.
        seed = {
            k.decode(): round(float(db[k].decode()), 1) for k in db.keys() if k.decode().startswith("tempest.")
        }
    finally:
        db.close()
    with open(seed_path, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(seed.items())), f, indent=2)
        f.write("\n")
    print(f"tempest times: {len(seed)} test durations written to {seed_path}")


COMMANDS = {"balance": balance, "import": import_seed, "export": export_seed}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in COMMANDS:
        raise SystemExit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2], sys.argv[3])
