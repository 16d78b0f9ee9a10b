# SPDX-License-Identifier: MIT
"""Contention's recording hook for PyTorch jobs (`contention record -- CMD ...`).

`contention record` puts this file's directory first on PYTHONPATH, so Python imports it at start
as `sitecustomize` — the job needs no change. With CONTENTION_RECORD_OUT set it imports torch and
watches the job's steps:

- a training step ends when any optimizer's step() returns (torch's global optimizer hook);
- until the first optimizer step, a step ends when a top-level module's forward returns (inference:
  the first module whose forward returns at the top level; later steps end when that module's
  forward returns);
- CONTENTION_RECORD_STEP=optimizer or forward keeps to one of those; the job may also call
  `sitecustomize.step()` itself (CONTENTION_RECORD_STEP=manual: only those calls count).

After CONTENTION_RECORD_WARMUP steps (default 20) it synchronises the GPU and starts
torch.profiler (CPU and CUDA activities, a schedule that records every step), marks each step with
`prof.step()` (a "ProfilerStep#N" annotation), and after CONTENTION_RECORD_STEPS steps (default 10) synchronises, stops and writes
torch's Chrome trace to CONTENTION_RECORD_OUT (gzip when it ends in .gz); `contention record`
turns that into a kernel trace. It also times every step (host time from one step's end to the
next's, perf_counter, leaving out the profiler's start and export) in the warm-up, while profiled and after (when the job runs on): at exit they
go to CONTENTION_RECORD_OUT + ".steps.json", the job's own step time without the profiler. A job that exits earlier writes what was recorded, and says so on
stderr. Without CONTENTION_RECORD_OUT the hook does nothing. A sitecustomize this file shadows
(later on sys.path) is run after it.
"""
import atexit
import json
import os
import sys
import time


def _chain_shadowed():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == here:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            with open(candidate, encoding="utf-8") as source:
                code = compile(source.read(), candidate, "exec")
            exec(code, {"__name__": "sitecustomize_shadowed", "__file__": candidate})
            return


class _Recorder:
    def __init__(self, out, warmup, steps, mode):
        self.out = out
        self.warmup = warmup
        self.steps = steps
        self.mode = mode
        self.boundaries = 0
        self.optimizer_seen = False
        self.depth = 0
        self.profiler = None
        self.recorded = 0
        self.done = False
        self.last = None
        self.times = {"warmup": [], "profiled": [], "after": []}
        self.forward_hooks = []

    def boundary(self, source):
        if self.mode == "auto":
            if source == "optimizer" and not self.optimizer_seen:
                self.optimizer_seen = True
                # Training: forwards no longer end steps; their hooks' cost leaves the job's steps.
                for handle in self.forward_hooks:
                    handle.remove()
                # Forward passes counted so far were training forwards: count steps afresh.
                if self.profiler is None:
                    self.boundaries = 0
                    self.last = None
                    self.times["warmup"].clear()
            if source == "forward" and self.optimizer_seen:
                return
        elif source != self.mode:
            return
        now = time.perf_counter_ns()
        if self.last is not None:
            phase = "after" if self.done else "profiled" if self.profiler is not None else "warmup"
            self.times[phase].append((now - self.last) / 1000)
        self.last = now
        if self.done:
            return
        self.boundaries += 1
        import torch

        if self.profiler is None:
            if self.boundaries >= self.warmup:
                torch.cuda.synchronize()
                from torch.profiler import ProfilerAction, ProfilerActivity, profile

                # A schedule that always records: without one torch neither annotates steps nor keeps
                # their events (each step() would save and clear what came before).
                activities = [ProfilerActivity.CPU, ProfilerActivity.CUDA]
                always = lambda step: ProfilerAction.RECORD  # noqa: E731
                try:
                    # acc_events (torch 2.4+): keep events across cycles, and no warning that they are cleared.
                    self.profiler = profile(activities=activities, record_shapes=False, schedule=always, acc_events=True)
                except TypeError:
                    self.profiler = profile(activities=activities, record_shapes=False, schedule=always)
                # start() opens ProfilerStep#0; each step() closes one and opens the next; stop() closes the last.
                self.profiler.start()
                self.last = time.perf_counter_ns()
            return
        self.recorded += 1
        if self.recorded >= self.steps:
            self.finish()
            # The next step is timed from here: the export is not the job's.
            self.last = time.perf_counter_ns()
        else:
            self.profiler.step()

    def finish(self):
        if self.done:
            return
        self.done = True
        if self.profiler is None:
            print(f"contention record: the job ended after {self.boundaries} steps, within the {self.warmup}-step warm-up: nothing recorded", file=sys.stderr)
            return
        import torch

        torch.cuda.synchronize()
        self.profiler.stop()
        self.profiler.export_chrome_trace(self.out)
        if self.recorded < self.steps:
            print(f"contention record: the job ended after {self.recorded} of {self.steps} recorded steps; wrote those to {self.out}", file=sys.stderr)
        else:
            print(f"contention record: wrote {self.recorded} steps (after {self.warmup} of warm-up, each ended by {self._unit()}) to {self.out}", file=sys.stderr)

    def write_steps(self):
        try:
            with open(self.out + ".steps.json", "w", encoding="utf-8") as f:
                json.dump({"unit": "us", **self.times}, f)
        except OSError as error:
            print(f"contention record: could not write the step times: {error}", file=sys.stderr)

    def _unit(self):
        if self.mode == "auto":
            return "an optimizer step" if self.optimizer_seen else "a top-level forward"
        return {"optimizer": "an optimizer step", "forward": "a top-level forward", "manual": "sitecustomize.step()"}[self.mode]


_recorder = None


def _fail(code, message):
    # sys.exit raised inside sitecustomize is a fatal error of Python's start-up: leave at once.
    print(f"contention record: {message}", file=sys.stderr, flush=True)
    os._exit(code)


def step():
    """Ends a step (CONTENTION_RECORD_STEP=manual; in other modes a no-op)."""
    if _recorder is not None and _recorder.mode == "manual":
        _recorder.boundary("manual")


def _install():
    global _recorder
    out = os.environ.get("CONTENTION_RECORD_OUT")
    if not out:
        return
    mode = os.environ.get("CONTENTION_RECORD_STEP", "auto")
    if mode not in ("auto", "optimizer", "forward", "manual"):
        _fail(2, f"CONTENTION_RECORD_STEP={mode}: expected auto, optimizer, forward or manual")
    try:
        warmup = int(os.environ.get("CONTENTION_RECORD_WARMUP", "20"))
        steps = int(os.environ.get("CONTENTION_RECORD_STEPS", "10"))
    except ValueError as error:
        _fail(2, f"CONTENTION_RECORD_WARMUP/STEPS: {error}")
    try:
        import torch
        import torch.nn.modules.module as module
        import torch.optim.optimizer as optimizer
    except ImportError as error:
        _fail(3, f"{error}: the hook records PyTorch jobs (python3 with torch)")
    if not torch.cuda.is_available():
        _fail(3, "torch finds no CUDA device: nothing to record")
    recorder = _Recorder(out, max(warmup, 1), max(steps, 1), mode)
    _recorder = recorder

    def pre_forward(mod, inputs):
        recorder.depth += 1

    def post_forward(mod, inputs, output):
        recorder.depth -= 1
        if recorder.depth == 0:
            # The first top-level module found: from now on only its own forward hook ends steps.
            # Global hooks put every module's call on torch's slow path (a ResNet-50 request at
            # batch 1 took 1.8x as long on the H200); one module's hook leaves the others alone.
            for handle in recorder.forward_hooks:
                handle.remove()
            recorder.forward_hooks = [mod.register_forward_hook(lambda m, i, o: recorder.boundary("forward"))]
            recorder.boundary("forward")

    if mode in ("auto", "forward"):
        recorder.forward_hooks = [module.register_module_forward_pre_hook(pre_forward), module.register_module_forward_hook(post_forward)]
    optimizer.register_optimizer_step_post_hook(lambda opt, args, kwargs: recorder.boundary("optimizer"))
    atexit.register(recorder.write_steps)
    atexit.register(recorder.finish)


_install()
_chain_shadowed()
