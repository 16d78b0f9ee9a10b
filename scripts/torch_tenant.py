# SPDX-License-Identifier: MIT
"""What Contention's PyTorch command tenants (resnet50_torch.py, gpt_torch.py) share: importing torch
and the job's own libraries with a clear error, and the step loop that prints one
"step 12.345 ms" line per step (from its start to torch.cuda.synchronize() after it) until SIGTERM
or a step count."""
import importlib
import os
import signal
import sys
import time


def need(*modules):
    """The imported modules, or exit status 3 saying which is missing and that a CUDA device is needed."""
    try:
        loaded = [importlib.import_module(m) for m in modules]
    except ImportError as error:
        print(f"error: {error}: this tenant needs python3 with {', '.join(modules)}", file=sys.stderr)
        sys.exit(3)
    torch = importlib.import_module("torch")
    if not torch.cuda.is_available():
        print(f"error: torch finds no CUDA device (CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')})", file=sys.stderr)
        sys.exit(3)
    return loaded


def run_steps(step, steps):
    """Runs step() then torch.cuda.synchronize() until SIGTERM or `steps` steps (0: no limit), printing each one's time."""
    import torch

    stop = False

    def on_term(signum, frame):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    done = 0
    while not stop and (steps == 0 or done < steps):
        start = time.perf_counter()
        step()
        torch.cuda.synchronize()
        print(f"step {(time.perf_counter() - start) * 1e3:.3f} ms", flush=True)
        done += 1
    return 0
