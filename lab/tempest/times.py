"""stestr's test durations (times.dbm: test id -> seconds as text, in Python's dbm.dumb format,
which stestr uses) to and from a JSON object, so that a fresh machine can start from the seed
committed beside this file (lab/tempest/times-seed.json) instead of dealing classes out
round-robin.

    python3 times.py import SEED.json REPO/times.dbm   # adds only ids the dbm lacks
    python3 times.py export REPO/times.dbm SEED.json   # sorted, seconds rounded to 0.1
"""
import dbm.dumb
import json
import sys


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


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("import", "export"):
        raise SystemExit(__doc__)
    (import_seed if sys.argv[1] == "import" else export_seed)(sys.argv[2], sys.argv[3])
