"""Time from launching the GUI to its main window being shown on an X display (issue 16: at most
3 s from the installed copy). Run under an X server, e.g.
    xvfb-run -a python packaging/first_window.py ~/.local/bin/generec-studio --db x.db --runs 3

Each run starts the executable, polls the X server every 10 ms (`xwininfo`) for the main
window (title "GeneRec Studio — CORPUS (PATH)") whose map state is IsViewable (Qt maps
the window in show() and paints it on the expose event that follows at once; without a
compositor nothing else stands between), prints the seconds from the launch to then, and
kills the app. Nothing is subtracted: the bootloader, unpacking nothing (one-folder build),
Python's start, the imports of the start-up path and the window's construction all count.
Needs only the standard library and xwininfo (x11-utils)."""
import argparse
import re
import signal
import subprocess
import sys
import time

# the main window's title, "GeneRec Studio — CORPUS (PATH)"; Qt also makes an unmapped 1x1
# window titled "GeneRec Studio" and one per dock ("Ranking", ...), which do not count
TITLE = re.compile(r'^\s*(0x[0-9a-f]+) "GeneRec Studio \u2014 ', re.M)


def xwininfo(*args: str) -> str:
    return subprocess.run(["xwininfo", *args], capture_output=True, encoding="utf-8",
                          errors="replace").stdout


def viewable_window() -> bool:
    for window_id in TITLE.findall(xwininfo("-root", "-tree")):
        if "Map State: IsViewable" in xwininfo("-id", window_id):
            return True
    return False


def first_window_s(command: list[str], timeout_s: float) -> float | None:
    start = time.perf_counter()
    app = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout_s:
            if viewable_window():
                return time.perf_counter() - start
            if app.poll() is not None:
                print(f"first_window: the app exited with {app.returncode} before showing a window",
                      file=sys.stderr)
                return None
            time.sleep(0.01)
        return None
    finally:
        if app.poll() is None:
            app.send_signal(signal.SIGKILL)
        app.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("executable")
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args()
    times = []
    for run in range(args.runs):
        seconds = first_window_s([args.executable, "--db", args.db], args.timeout)
        if seconds is None:
            print(f"first window: run {run + 1}: none within {args.timeout:.0f} s")
            return 1
        times.append(seconds)
        time.sleep(1.0)
    print("first window: " + ", ".join(f"{s:.2f}" for s in times)
          + " s (runs in order; the first after the install's copy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
