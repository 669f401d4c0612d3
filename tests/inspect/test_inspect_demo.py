"""demos/gradients.py runs end to end (quick setting) and writes what it says it writes."""
import os
import subprocess
import sys

DEMO = os.path.join(os.path.dirname(__file__), "..", "..", "demos", "gradients.py")


def test_gradient_tour_runs_quickly_and_writes_its_pictures(tmp_path):
    # Tiny matrices: BLAS threads only add overhead (and stall on busy shared machines).
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, DEMO, "--quick", "--out", str(tmp_path), "--seed", "1"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout

    for name in ("loss.png", "grad_flow.png", "vanishing_gradients.png"):
        path = str(tmp_path / name)
        assert path in out and open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    for name in ("graph.dot", "graph_backward.dot", "gp_graph.dot", "gp_double_backward.dot"):
        assert (tmp_path / name).exists() and str(tmp_path / name) in out
    listed = out.split("pictures")[-1].splitlines()          # the list at the end
    printed_pngs = [line.strip() for line in listed if line.strip().endswith(".png")]
    assert len(printed_pngs) >= 3 and all(os.path.exists(p) for p in printed_pngs), printed_pngs

    # every gradient beside its numerical check, and all of them agree
    assert "all 11 gradients agree with finite differences" in out      # 7 nodes + 4 parameters
    penalty = [line for line in out.splitlines() if line.strip().startswith("d/d[")]
    assert len(penalty) == 4                                          # the critic's parameters
    assert all(line.rstrip().endswith("ok") for line in penalty), "\n".join(penalty)
    assert "trace: 7 nodes" in out and "vanishing" in out
