"""Run Odoo's test suite and write a JUnit XML report of it.

Usage: ODOO_PYTHON tools/odoo_junit.py --junit PATH -- <odoo server arguments>

Odoo logs its test results but writes no JUnit report: this wrapper records every test outcome
from Odoo's own ``OdooTestResult`` while Odoo runs as usual, then writes the report, prints a
closing line ``odoo: N passed, N failed, N skipped`` and exits non-zero when any test failed or
errored, when no test ran, or when Odoo logged an error outside the tests (a module that failed
to install, for example).
"""

import argparse
import logging
import re
import sys
import time
import traceback
from xml.etree import ElementTree as ET

# Odoo's own summary lines ("3 failed, 1 error(s) of 40 tests ...",
# "Module x: 2 failures, 0 errors")
SUMMARY = re.compile(r"\d+ (failed|failures), \d+ error")


class Recorder:
    def __init__(self):
        self.cases = {}  # test id -> dict(classname, name, time, outcome, message, detail)
        self.order = []
        self.started = {}
        self.logged_errors = []

    @staticmethod
    def split_id(test):
        test_id = test.id() if hasattr(test, "id") else str(test)
        if hasattr(test, "_testMethodName"):
            return test_id, test_id.rsplit(".", 1)[0], test._testMethodName
        # setUpClass / tearDownClass errors arrive as an _ErrorHolder: "setUpClass (mod.Class)"
        return test_id, "setup", test_id

    def case(self, test):
        test_id, classname, name = self.split_id(test)
        if test_id not in self.cases:
            self.cases[test_id] = {
                "classname": classname,
                "name": name,
                "time": 0.0,
                "outcome": "passed",
                "message": "",
                "detail": "",
            }
            self.order.append(test_id)
        return self.cases[test_id]

    def start(self, test):
        self.case(test)
        self.started[self.split_id(test)[0]] = time.monotonic()

    def stop(self, test):
        test_id = self.split_id(test)[0]
        if test_id in self.started:
            self.case(test)["time"] = time.monotonic() - self.started.pop(test_id)

    def outcome(self, test, outcome, err=None, reason=""):
        case = self.case(test)
        if case["outcome"] in ("error", "failure") and outcome in ("passed", "skipped"):
            return
        case["outcome"] = outcome
        if err is not None:
            case["message"] = f"{err[0].__name__}: {err[1]}"[:500]
            case["detail"] = "".join(traceback.format_exception(*err))
        elif reason:
            case["message"] = reason

    def counts(self):
        counts = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
        for case in self.cases.values():
            counts[case["outcome"]] += 1
        return counts

    def write(self, path, wall):
        counts = self.counts()
        suite = ET.Element(
            "testsuite",
            name="odoo",
            tests=str(len(self.cases)),
            failures=str(counts["failure"]),
            errors=str(counts["error"] + (1 if self.logged_errors else 0)),
            skipped=str(counts["skipped"]),
            time=f"{wall:.3f}",
        )
        for test_id in self.order:
            case = self.cases[test_id]
            node = ET.SubElement(
                suite,
                "testcase",
                classname=case["classname"],
                name=case["name"],
                time=f"{case['time']:.3f}",
            )
            if case["outcome"] in ("failure", "error"):
                child = ET.SubElement(node, case["outcome"], message=case["message"])
                child.text = case["detail"]
            elif case["outcome"] == "skipped":
                ET.SubElement(node, "skipped", message=case["message"])
        if self.logged_errors:
            node = ET.SubElement(suite, "testcase", classname="odoo", name="server_log")
            child = ET.SubElement(
                node, "error", message=f"Odoo logged {len(self.logged_errors)} error(s)"
            )
            child.text = "\n\n".join(self.logged_errors)
        root = ET.Element("testsuites")
        root.append(suite)
        ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class ErrorLogHandler(logging.Handler):
    """Remembers errors Odoo logs outside test outcomes (install failures and the like)."""

    def __init__(self, recorder):
        super().__init__(logging.ERROR)
        self.recorder = recorder

    def emit(self, record):
        message = record.getMessage()
        # Test failures are logged by OdooTestResult as "FAIL: ..." / "ERROR: ..." and are
        # already counted as test outcomes; the summary lines repeat them.
        if message.startswith(("FAIL: ", "ERROR: ")) or SUMMARY.search(message):
            return
        self.recorder.logged_errors.append(f"{record.name}: {message}"[:4000])


def install(recorder):
    from odoo.tools import config

    # Importing Odoo's test framework outside test mode logs an error; the command line parsed
    # later sets the same flag from --test-enable.
    config["test_enable"] = True
    from odoo.tests import result as odoo_result

    cls = odoo_result.OdooTestResult
    original = {
        name: getattr(cls, name)
        for name in ("startTest", "stopTest", "addError", "addFailure", "addSkip", "addSuccess")
    }

    def start(self, test):
        recorder.start(test)
        return original["startTest"](self, test)

    def stop(self, test):
        recorder.stop(test)
        return original["stopTest"](self, test)

    def error(self, test, err):
        recorder.outcome(test, "error", err)
        return original["addError"](self, test, err)

    def failure(self, test, err):
        recorder.outcome(test, "failure", err)
        return original["addFailure"](self, test, err)

    def skip(self, test, reason):
        recorder.outcome(test, "skipped", reason=reason)
        return original["addSkip"](self, test, reason)

    def success(self, test):
        recorder.outcome(test, "passed")
        return original["addSuccess"](self, test)

    cls.startTest = start
    cls.stopTest = stop
    cls.addError = error
    cls.addFailure = failure
    cls.addSkip = skip
    cls.addSuccess = success
    logging.getLogger().addHandler(ErrorLogHandler(recorder))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", required=True)
    parser.add_argument("odoo_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    odoo_args = [a for a in args.odoo_args if a != "--"]

    import odoo

    recorder = Recorder()
    install(recorder)
    started = time.monotonic()
    sys.argv = ["odoo", *odoo_args]
    try:
        odoo.cli.main()
        odoo_rc = 0
    except SystemExit as exc:
        odoo_rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    recorder.write(args.junit, time.monotonic() - started)

    counts = recorder.counts()
    failed = counts["failure"] + counts["error"]
    print(
        f"odoo: {counts['passed']} passed, {failed} failed, {counts['skipped']} skipped",
        flush=True,
    )
    if recorder.logged_errors:
        print(f"odoo: Odoo logged {len(recorder.logged_errors)} error(s) outside the tests:")
        for line in recorder.logged_errors[:10]:
            print("  " + line.splitlines()[0][:300])
    if not recorder.cases:
        print("odoo: no test ran")
        return 1
    if failed or recorder.logged_errors or odoo_rc:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
