"""Progress callbacks, the GIL released while training, Ctrl-C."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import tandem


def test_callback_sees_steps_and_epochs(data_dir):
    events = []
    tandem.train(preset="kerasrs", data=data_dir, epochs=2, seed=7, train_count=20000, test_count=2000,
                 batch_size=1000, threads=1, progress=events.append)
    epochs = [e for e in events if e["event"] == "epoch"]
    steps = [e for e in events if e["event"] == "step"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all(e["epochs"] == 2 and e["steps"] == 20 for e in epochs)
    assert len(steps) == 2 * 19  # every step but the one that ends an epoch
    assert all(s["ranking_loss"] > 0 for s in steps)


def test_training_releases_the_gil(data_dir):
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        tandem.train(preset="kerasrs", data=data_dir, epochs=1, seed=7, threads=1, progress=False)
    finally:
        stop.set()
        t.join()
    # Training takes over a second; a thread holding the GIL would starve the ticker.
    assert len(ticks) > 100, len(ticks)


def test_ctrl_c_stops_training_with_keyboard_interrupt(data_dir):
    script = textwrap.dedent(f"""
        import sys, tandem
        print("start", flush=True)
        try:
            tandem.train(preset="kerasrs", data={str(data_dir)!r}, epochs=1000, threads=1, progress=False)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(0)
        sys.exit(3)
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=os.environ)
    assert p.stdout.readline().strip() == "start"
    time.sleep(2.0)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0 and "interrupted" in out, (p.returncode, out)
